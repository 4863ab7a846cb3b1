import { z } from "zod";
import { isIsoDate, reason, textKey } from "../../forms";

const date = z.string().refine((v) => v.trim() === "" || isIsoDate(v), reason("invalid_date"));

/**
 * The audit filters as typed: any may be empty; dates are real days, the range in order. The
 * patient is the one picked from the search (or, without patient search, a typed patient id).
 */
export const filterSchema = z
  .object({
    userId: z.string(),
    patient: z.object({ id: z.string(), label: z.string() }).nullable(),
    patientText: z.string(),
    kind: z.string(),
    dateFrom: date,
    dateTo: date,
  })
  .superRefine((v, ctx) => {
    const [from, to] = [v.dateFrom.trim(), v.dateTo.trim()];
    if (from && to && isIsoDate(from) && isIsoDate(to) && to < from) {
      ctx.addIssue({ code: "custom", path: ["dateTo"], message: textKey("audit.dateOrder") });
    }
  });
export type FilterValues = z.infer<typeof filterSchema>;

export const EMPTY_FILTERS: FilterValues = { userId: "", patient: null, patientText: "", kind: "", dateFrom: "", dateTo: "" };
