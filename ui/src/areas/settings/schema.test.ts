import { describe, expect, it } from "vitest";
import { expectOneProblem, problems } from "../../test/schemaProblems";
import { settingsSchema } from "./schema";

describe("the settings schema keeps the idle limit in the core's range", () => {
  it.each(["1", "10", " 240 "])("accepts %o", async (v) => {
    expect(await problems(settingsSchema, { idle_lock_minutes: v })).toEqual({});
  });
  it.each(["0", "241", "2.5", "", "ten", "-3"])("refuses %o in both languages", async (v) => {
    await expectOneProblem(settingsSchema, { idle_lock_minutes: "10" }, { idle_lock_minutes: v }, "idle_lock_minutes", "Enter a value between 1 and 240.");
  });
});
