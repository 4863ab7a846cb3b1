import { z } from "zod";
import { isIsoDate, length, reason } from "../../forms";
import { todayIso } from "../../format";

// The core's limits (crates/core/src/text.rs) and rules (patients validation): the form says
// the same as the core would, without a round trip; the core still checks everything.
const NAME_MAX = 100;
const LINE_MAX = 300;
const NOTES_MAX = 4000;
const PHONE_MAX = 30;

const text = (max: number) => z.string().refine((v) => length(v) <= max, reason("too_long", { max }));

/** ASCII and Arabic-Indic digits, as the core counts a phone number's digits. */
const DIGIT = /[0-9\u0660-\u0669\u06F0-\u06F9]/u;

function phoneOk(raw: string): boolean {
  const phone = raw.trim();
  const chars = [...phone];
  const allowed = chars.every((c, i) => (c === "+" && i === 0) || " -()".includes(c) || DIGIT.test(c));
  const digits = chars.filter((c) => DIGIT.test(c)).length;
  return allowed && digits >= 7 && digits <= 15;
}

function dateProblem(raw: string): "invalid_date" | "date_in_future" | "date_too_old" | null {
  const v = raw.trim();
  if (!isIsoDate(v)) return "invalid_date";
  if (v > todayIso()) return "date_in_future";
  if (v < "1900-01-01") return "date_too_old";
  return null;
}

/** The patient form's values: every control's text, as typed. */
export const patientSchema = z
  .object({
    name_en: text(NAME_MAX),
    name_ar: text(NAME_MAX),
    date_of_birth: z.string().superRefine((v, ctx) => {
      const problem = dateProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: reason(problem) });
    }),
    sex: z.string().refine((v): boolean => v === "male" || v === "female", reason("invalid_sex")),
    phone: z
      .string()
      .refine((v) => length(v) <= PHONE_MAX, reason("too_long", { max: PHONE_MAX }))
      .refine(phoneOk, reason("phone_format")),
    national_id: z.string().refine((v) => v.trim() === "" || /^[A-Za-z0-9]{5,20}$/.test(v.trim()), reason("national_id_format")),
    address: text(LINE_MAX),
    emergency_contact: text(LINE_MAX),
    allergies: text(NOTES_MAX),
    chronic_diseases: text(NOTES_MAX),
    current_medications: text(NOTES_MAX),
    medical_history: text(NOTES_MAX),
  })
  .superRefine((v, ctx) => {
    if (v.name_en.trim() === "" && v.name_ar.trim() === "") {
      ctx.addIssue({ code: "custom", path: ["name_en"], message: reason("name_required") });
    }
  });

export type PatientValues = z.infer<typeof patientSchema>;
