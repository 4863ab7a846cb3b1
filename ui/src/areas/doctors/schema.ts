import { z } from "zod";
import type { Interval, LeaveSpan, Specialty, Weekday } from "../../bindings";
import { length, reason } from "../../forms";

// The core's rules (crates/core/src/doctors/rules.rs): the forms say the same as the core
// would, without a round trip; the core still checks everything (and alone knows a licence
// number is taken).
const NAME_MAX = 100;
const LABEL_MAX = 100;
const LICENCE_MAX = 30;
const NOTE_MAX = 300;
export const INTERVALS_MAX = 6;

// Records over the generated unions: tsc fails here if the Rust side adds or drops a variant.
const SPECIALTY_SET: Record<Specialty, true> = {
  general_dentistry: true,
  orthodontics: true,
  endodontics: true,
  periodontics: true,
  prosthodontics: true,
  oral_surgery: true,
  pediatric_dentistry: true,
  implantology: true,
};
export const SPECIALTIES = Object.keys(SPECIALTY_SET) as Specialty[];

const WEEKDAY_SET: Record<Weekday, true> = {
  monday: true,
  tuesday: true,
  wednesday: true,
  thursday: true,
  friday: true,
  saturday: true,
  sunday: true,
};
/** Monday first, as the core stores a week. */
export const WEEKDAYS = Object.keys(WEEKDAY_SET) as Weekday[];

const required = (max: number) =>
  z
    .string()
    .refine((v) => length(v) > 0, reason("required"))
    .refine((v) => length(v) <= max, reason("too_long", { max }));

/** The profile form: a new profile also names the doctor's account. */
export const doctorSchema = z.object({
  user_id: z.string(),
  name_en: required(NAME_MAX),
  name_ar: required(NAME_MAX),
  specialty: z.enum(SPECIALTIES as [Specialty, ...Specialty[]], { error: reason("required") }),
  licence: required(LICENCE_MAX).refine((v) => /^[A-Za-z0-9\-/. ]*$/.test(v.trim()), reason("licence_format")),
  status: z.enum(["active", "retired"]),
});
export const newDoctorSchema = doctorSchema.refine((v) => v.user_id !== "", { path: ["user_id"], message: reason("required") });
export type DoctorValues = z.infer<typeof doctorSchema>;

export const chairSchema = z.object({ label_en: required(LABEL_MAX), label_ar: required(LABEL_MAX) });
export type ChairValues = z.infer<typeof chairSchema>;

/** Minutes of a strict `HH:MM` (00:00 to 23:59), or null. */
export function minuteOf(s: string): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(s);
  if (!m) return null;
  const [h, min] = [Number(m[1]), Number(m[2])];
  return h <= 23 && min <= 59 ? h * 60 + min : null;
}

/** What is wrong with one day's intervals (the core's `check_week`), or null. */
export function dayProblem(intervals: readonly Interval[]): "time_format" | "interval_order" | "intervals_overlap" | "too_many_intervals" | null {
  if (intervals.length > INTERVALS_MAX) return "too_many_intervals";
  let previousEnd: number | null = null;
  for (const i of intervals) {
    const [start, end] = [minuteOf(i.start), minuteOf(i.end)];
    if (start === null || end === null) return "time_format";
    if (start >= end) return "interval_order";
    if (previousEnd !== null && start < previousEnd) return "intervals_overlap";
    previousEnd = end;
  }
  return null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
function dateOk(v: string): boolean {
  if (!DATE.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** The leave form: which fields count depends on the kind. */
export const leaveSchema = z
  .object({
    type: z.enum(["day_off", "holiday", "late_start"]),
    date: z.string(),
    from: z.string(),
    to: z.string(),
    starts_at: z.string(),
    note: z.string().refine((v) => length(v) <= NOTE_MAX, reason("too_long", { max: NOTE_MAX })),
  })
  .superRefine((v, ctx) => {
    const bad = (path: string, r: Parameters<typeof reason>[0]) => ctx.addIssue({ code: "custom", path: [path], message: reason(r) });
    if (v.type === "holiday") {
      if (!dateOk(v.from)) bad("from", "invalid_date");
      if (!dateOk(v.to)) bad("to", "invalid_date");
      else if (dateOk(v.from) && v.to < v.from) bad("to", "date_order");
    } else if (!dateOk(v.date)) bad("date", "invalid_date");
    if (v.type === "late_start" && minuteOf(v.starts_at) === null) bad("starts_at", "time_format");
  });
export type LeaveValues = z.infer<typeof leaveSchema>;

/** The command's leave from the form's values (after the schema passed). */
export function toSpan(v: LeaveValues): LeaveSpan {
  switch (v.type) {
    case "holiday":
      return { type: "holiday", from: v.from, to: v.to };
    case "late_start":
      return { type: "late_start", date: v.date, starts_at: v.starts_at };
    default:
      return { type: "day_off", date: v.date };
  }
}
