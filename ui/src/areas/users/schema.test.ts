import { describe, expect, it } from "vitest";
import { newUserSchema, resetPasswordSchema } from "./schema";
import { expectOneProblem, problems as schemaProblems } from "../../test/schemaProblems";

const NEW = { username: "sara.k", display_name: "Sara Khalil", role: "receptionist", password: "correct horse", language: "ar" };

const problems = (values: Record<string, string>) => schemaProblems(newUserSchema, NEW, values);

describe("the user form's schema says what the core would", () => {
  it("accepts a valid account (the username's case is the core's to fold)", async () => {
    expect(await problems({})).toEqual({});
    expect(await problems({ username: "Sara_K-2" })).toEqual({});
  });

  it.each([
    [{ username: "sk" }, "username", "Use 3 to 32 characters: letters, digits, dot, dash or underscore."],
    [{ username: "sara k" }, "username", "Use 3 to 32 characters: letters, digits, dot, dash or underscore."],
    [{ display_name: "  " }, "display_name", "This field is required."],
    [{ password: "short" }, "password", "The password must have at least 8 characters."],
    [{ role: "owner" }, "role", "This field is required."],
  ] as const)("%o: one message, under %s, in both languages", async (values, field, en) => {
    await expectOneProblem(newUserSchema, NEW, values, field, en);
  });
});

describe("the reset-password schema", () => {
  it("takes the password as typed, spaces included", async () => {
    expect(await schemaProblems(resetPasswordSchema, { password: " 8 chars" })).toEqual({});
  });
  it("refuses a short one in both languages", async () => {
    await expectOneProblem(resetPasswordSchema, { password: "x" }, {}, "password", "The password must have at least 8 characters.");
  });
});
