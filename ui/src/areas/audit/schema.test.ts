import { describe, expect, it } from "vitest";
import { expectOneProblem, problems } from "../../test/schemaProblems";
import { EMPTY_FILTERS, filterSchema } from "./schema";

describe("the audit filter schema", () => {
  it("accepts no filter, and a range in order (one day too)", async () => {
    expect(await problems(filterSchema, EMPTY_FILTERS)).toEqual({});
    expect(await problems(filterSchema, EMPTY_FILTERS, { dateFrom: "2030-01-02", dateTo: "2030-01-02", kind: "auth." })).toEqual({});
  });
  it.each([
    [{ dateFrom: "2030-02-30" }, "dateFrom", "Enter a valid date."],
    [{ dateTo: "yesterday" }, "dateTo", "Enter a valid date."],
    [{ dateFrom: "2030-01-03", dateTo: "2030-01-02" }, "dateTo", "The end date is before the start date."],
  ] as const)("%o: one message, under %s", async (values, field, en) => {
    await expectOneProblem(filterSchema, EMPTY_FILTERS, values, field, en);
  });
});
