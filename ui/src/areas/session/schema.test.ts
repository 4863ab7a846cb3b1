import { describe, expect, it } from "vitest";
import { expectOneProblem, problems } from "../../test/schemaProblems";
import { joinSchema, loginSchema, setupSchema, unlockSchema } from "./schema";

const TICKET = "dentpro-enrol:K7Q2-9XWM@10.0.0.5:7443#ab:cd:ef";
const SETUP = {
  branch_name: "Riyadh Main",
  branch_code: "RYD01",
  admin_username: "adel",
  admin_display_name: "Adel Admin",
  admin_password: "correct horse",
  password_confirm: "correct horse",
};

describe("the sign-in and unlock schemas ask for what was not typed", () => {
  it("accepts any typed username and password (the core checks them)", async () => {
    expect(await problems(loginSchema, { username: "sara", password: "x" })).toEqual({});
    expect(await problems(unlockSchema, { password: " " })).toEqual({});
  });
  it.each([
    [loginSchema, { username: "  ", password: "x" }, "username"],
    [loginSchema, { username: "sara", password: "" }, "password"],
    [unlockSchema, { password: "" }, "password"],
  ] as const)("%#: %o is refused under %s", async (schema, values, field) => {
    await expectOneProblem(schema, values, {}, field, "This field is required.", "هذا الحقل مطلوب.");
  });
});

describe("the first-run schema says what the core would", () => {
  it("accepts a valid branch and admin", async () => {
    expect(await problems(setupSchema, SETUP)).toEqual({});
  });
  it.each([
    [{ branch_name: " " }, "branch_name", "This field is required."],
    [{ branch_code: "RYD-01" }, "branch_code", "Use letters and digits only."],
    [{ branch_code: "A".repeat(13) }, "branch_code", "Too long: at most 12 characters."],
    [{ admin_username: "a b" }, "admin_username", "Use 3 to 32 characters: letters, digits, dot, dash or underscore."],
    [{ admin_display_name: "" }, "admin_display_name", "This field is required."],
    [{ admin_password: "short", password_confirm: "short" }, "admin_password", "The password must have at least 8 characters."],
    [{ password_confirm: "correct horsE" }, "password_confirm", "The two passwords do not match."],
  ] as const)("%o: one message, under %s", async (values, field, en) => {
    await expectOneProblem(setupSchema, SETUP, values, field, en);
  });
});

describe("the join schema checks the ticket's shape", () => {
  it("accepts a ticket as the server prints it, with spaces around it", async () => {
    expect(await problems(joinSchema, { ticket: ` ${TICKET}\n`, label: "Chair 2" })).toEqual({});
  });
  it.each([
    [{ ticket: "not a ticket" }, "ticket", "This is not an enrolment ticket. Copy the whole line starting with dentpro-enrol:"],
    [{ ticket: "dentpro-enrol:K7Q2@10.0.0.5" }, "ticket", "This is not an enrolment ticket. Copy the whole line starting with dentpro-enrol:"],
    [{ ticket: "" }, "ticket", "This is not an enrolment ticket. Copy the whole line starting with dentpro-enrol:"],
    [{ label: "  " }, "label", "This field is required."],
    [{ label: "x".repeat(101) }, "label", "Too long: at most 100 characters."],
  ] as const)("%o: one message, under %s", async (values, field, en) => {
    await expectOneProblem(joinSchema, { ticket: TICKET, label: "Chair 2" }, values, field, en);
  });
});
