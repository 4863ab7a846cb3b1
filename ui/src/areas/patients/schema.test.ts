import { describe, expect, it } from "vitest";
import { expectOneProblem, problems as schemaProblems } from "../../test/schemaProblems";
import { patientSchema, type PatientValues } from "./schema";

const ZAID: PatientValues = {
  name_en: "Zaid Qasem",
  name_ar: "زيد قاسم",
  date_of_birth: "2001-02-28",
  sex: "male",
  phone: "0785550101",
  national_id: "",
  address: "",
  emergency_contact: "",
  allergies: "None known",
  chronic_diseases: "",
  current_medications: "",
  medical_history: "",
};

const problems = (values: Partial<PatientValues>) => schemaProblems(patientSchema, ZAID, values);

describe("the patient form's schema says what the core would", () => {
  it("accepts a valid patient, with Arabic-Indic digits in the phone", async () => {
    expect(await problems({})).toEqual({});
    expect(await problems({ phone: "+962 (79) ١٢٣-٤٥٦٧", national_id: "ab12345", name_en: "" })).toEqual({});
  });

  it.each([
    [{ date_of_birth: "2999-01-01" }, "date_of_birth", "The date cannot be in the future.", "لا يمكن أن يكون التاريخ في المستقبل."],
    [{ date_of_birth: "1899-12-31" }, "date_of_birth", "The date is too far in the past.", null],
    [{ date_of_birth: "2023-02-30" }, "date_of_birth", "Enter a valid date.", null],
    [{ date_of_birth: "" }, "date_of_birth", "Enter a valid date.", null],
    [{ name_en: " ", name_ar: "" }, "name_en", "Enter the patient's name in English or Arabic.", null],
    [{ phone: "12ab" }, "phone", "Enter a valid phone number (7 to 15 digits).", null],
    [{ phone: "123456" }, "phone", "Enter a valid phone number (7 to 15 digits).", null],
    [{ phone: "1234567890123456" }, "phone", "Enter a valid phone number (7 to 15 digits).", null],
    [{ phone: "07-8555+0101" }, "phone", "Enter a valid phone number (7 to 15 digits).", null],
    [{ sex: "" }, "sex", "Select male or female.", null],
    [{ national_id: "12-34" }, "national_id", "Use 5 to 20 letters and digits.", null],
    [{ address: "x".repeat(301) }, "address", "Too long: at most 300 characters.", null],
    [{ name_ar: "ب".repeat(101) }, "name_ar", "Too long: at most 100 characters.", null],
  ] as const)("%o: one message, under %s", async (values, field, en, ar) => {
    await expectOneProblem(patientSchema, ZAID, values, field, en, ar);
  });

  it("counts characters as the core does (trimmed, code points)", async () => {
    expect(await problems({ address: `  ${"😀".repeat(300)}  ` })).toEqual({});
  });
});
