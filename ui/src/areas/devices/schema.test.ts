import { describe, expect, it } from "vitest";
import { expectOneProblem, problems } from "../../test/schemaProblems";
import { revokeSchema } from "./schema";

describe("the revocation schema asks for a reason the core keeps", () => {
  it("accepts a reason", async () => {
    expect(await problems(revokeSchema, { reason: "Laptop stolen" })).toEqual({});
  });
  it.each([
    ["  ", "This field is required."],
    ["x".repeat(501), "Too long: at most 500 characters."],
  ])("%#: refuses %o", async (reason, en) => {
    await expectOneProblem(revokeSchema, { reason: "ok" }, { reason }, "reason", en);
  });
});
