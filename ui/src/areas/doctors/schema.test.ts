import { describe, expect, it } from "vitest";
import { messageOf } from "../../forms";
import { translator } from "../../i18n/translator";
import { chairSchema, dayProblem, leaveSchema, minuteOf, newDoctorSchema, toSpan } from "./schema";

type Issues = { issues: { path: PropertyKey[]; message: string }[] };

/** Each field's message in English and Arabic. */
async function problems(r: { success: true } | { success: false; error: Issues }) {
  if (r.success) return {};
  const [tEn, tAr] = [await translator("en"), await translator("ar")];
  const out: Record<string, [string, string]> = {};
  for (const issue of r.error.issues) {
    const m = messageOf(issue);
    if (!m) throw new Error(`no text key in ${issue.message}`);
    out[issue.path.join(".")] = [tEn(m.key, m.vars), tAr(m.key, m.vars)];
  }
  return out;
}

const DOCTOR = { user_id: "u1", name_en: "Lina Haddad", name_ar: "لينا حداد", specialty: "orthodontics", licence: "JMC-1234", status: "active" };

describe("the doctor form's schema says what the core would", () => {
  it("accepts a valid profile", async () => {
    expect(await problems(newDoctorSchema.safeParse(DOCTOR))).toEqual({});
    expect(await problems(newDoctorSchema.safeParse({ ...DOCTOR, licence: " jmc/12.3 a " }))).toEqual({});
  });

  it.each([
    [{ user_id: "" }, "user_id", "This field is required."],
    [{ name_en: "  " }, "name_en", "This field is required."],
    [{ name_ar: "ب".repeat(101) }, "name_ar", "Too long: at most 100 characters."],
    [{ licence: "1".repeat(31) }, "licence", "Too long: at most 30 characters."],
    [{ licence: "A<1>" }, "licence", "Use letters, digits, dashes, slashes, dots or spaces."],
    [{ licence: "١٢٣" }, "licence", "Use letters, digits, dashes, slashes, dots or spaces."],
    [{ specialty: "dentist" }, "specialty", "This field is required."],
  ] as const)("%o: one message, under %s, in both languages", async (values, field, en) => {
    const found = await problems(newDoctorSchema.safeParse({ ...DOCTOR, ...values }));
    expect(Object.keys(found)).toEqual([field]);
    expect(found[field]?.[0]).toBe(en);
    expect(found[field]?.[1]).toMatch(/[\u0600-\u06FF]/);
  });

  it("wants both chair labels", async () => {
    expect(await problems(chairSchema.safeParse({ label_en: "Chair 1", label_ar: "كرسي ١" }))).toEqual({});
    expect(Object.keys(await problems(chairSchema.safeParse({ label_en: "", label_ar: "x".repeat(101) })))).toEqual(["label_en", "label_ar"]);
  });
});

describe("weekly hours are checked as the core checks them", () => {
  const iv = (start: string, end: string) => ({ start, end });
  it("reads strict HH:MM", () => {
    expect(minuteOf("00:00")).toBe(0);
    expect(minuteOf("23:59")).toBe(23 * 60 + 59);
    for (const bad of ["24:00", "9:00", "09:60", "09-00", " 09:00", "09:00:00", ""]) expect(minuteOf(bad), bad).toBeNull();
  });

  it.each([
    [[iv("09:00", "13:00"), iv("14:00", "18:00")], null],
    [[iv("09:00", "13:00"), iv("13:00", "17:00")], null],
    [[iv("09:00", "13:00"), iv("12:00", "15:00")], "intervals_overlap"],
    [[iv("14:00", "16:00"), iv("09:00", "12:00")], "intervals_overlap"],
    [[iv("13:00", "09:00")], "interval_order"],
    [[iv("09:00", "09:00")], "interval_order"],
    [[iv("22:00", "24:00")], "time_format"],
    [Array.from({ length: 7 }, (_, i) => iv(`0${i}:00`, `0${i}:30`)), "too_many_intervals"],
  ] as const)("%o → %s", (intervals, problem) => {
    expect(dayProblem(intervals)).toBe(problem);
  });
});

describe("the leave form", () => {
  const LEAVE = { type: "day_off", date: "2026-03-09", from: "", to: "", starts_at: "", note: "" } as const;
  it("checks only the fields of its kind", async () => {
    expect(await problems(leaveSchema.safeParse(LEAVE))).toEqual({});
    expect(Object.keys(await problems(leaveSchema.safeParse({ ...LEAVE, date: "2026-02-30" })))).toEqual(["date"]);
    const holiday = { ...LEAVE, type: "holiday", from: "2026-03-12", to: "2026-03-10" } as const;
    const found = await problems(leaveSchema.safeParse(holiday));
    expect(found.to?.[0]).toBe("The last day must not be before the first.");
    const late = { ...LEAVE, type: "late_start", starts_at: "10h30" } as const;
    expect(Object.keys(await problems(leaveSchema.safeParse(late)))).toEqual(["starts_at"]);
  });

  it("sends the span of its kind", () => {
    expect(toSpan({ ...LEAVE, type: "late_start", starts_at: "10:30" })).toEqual({ type: "late_start", date: "2026-03-09", starts_at: "10:30" });
    expect(toSpan({ ...LEAVE, type: "holiday", from: "2026-03-12", to: "2026-03-17" })).toEqual({ type: "holiday", from: "2026-03-12", to: "2026-03-17" });
  });
});
