/**
 * Query keys of the doctors area. A profile change invalidates `list` and that doctor's
 * `detail`; hours and leave invalidate the doctor's `detail` and `availability`; chairs `chairs`.
 */
export const doctorKeys = {
  all: ["doctors"] as const,
  list: ["doctors", "list"] as const,
  candidates: ["doctors", "candidates"] as const,
  detail: (id: string) => ["doctors", "detail", id] as const,
  availability: (id: string, date: string) => ["doctors", "availability", id, date] as const,
  availabilityOf: (id: string) => ["doctors", "availability", id] as const,
  chairs: ["doctors", "chairs"] as const,
};
