import { beforeAll, describe, expect, it } from "vitest";
import type { TFunction } from "i18next";
import en from "./i18n/en.json";
import ar from "./i18n/ar.json";
import type { CoreError } from "./bindings";
import { errorText, fieldMessage, kindLabel, reasonText } from "./errors";
import { toCoreError, call } from "./api";
import { summarizePayload } from "./auditFormat";
import { ageInYears } from "./format";
import { translator } from "./i18n/translator";

let tEn: TFunction;
let tAr: TFunction;

beforeAll(async () => {
  tEn = await translator("en");
  tAr = await translator("ar");
});

const invalid = (field: string, reason: string, extra: Record<string, string> = {}): CoreError => ({
  code: "invalid",
  message: `${field}: ${reason}`,
  details: { field, reason, ...extra },
});

describe("error translation", () => {
  it("translates a field reason with its bounds", () => {
    const e = invalid("password", "password_too_short", { min: "8" });
    expect(reasonText(tEn, e, "en")).toBe("The password must have at least 8 characters.");
    expect(errorText(tEn, e, "en")).toBe("Password: The password must have at least 8 characters.");
    expect(errorText(tAr, e, "ar")).toContain("8");
    expect(errorText(tAr, e, "ar")).toContain("كلمة المرور");
  });

  it("gives the field and message key for inline display", () => {
    expect(fieldMessage(invalid("phone", "phone_format"))).toEqual({
      field: "phone",
      message: { key: "reasons.phone_format", vars: { field: "phone", reason: "phone_format" } },
    });
    expect(fieldMessage({ code: "forbidden", message: "no", details: {} })).toBeNull();
  });

  it("translates codes, with the lock end time for account_locked", () => {
    expect(errorText(tEn, { code: "bad_credentials", message: "x", details: {} }, "en")).toBe("Wrong username or password.");
    const locked: CoreError = { code: "account_locked", message: "x", details: { until: "2030-01-02T03:04:00.000Z" } };
    expect(errorText(tEn, locked, "en")).toMatch(/2030/);
    expect(errorText(tAr, locked, "ar")).toMatch(/2030/);
  });

  it("falls back to the core's message for unknown codes and reasons", () => {
    const odd = { code: "brand_new", message: "something new", details: {} } as unknown as CoreError;
    expect(errorText(tEn, odd, "en")).toBe("something new");
    const unknownReason = invalid("phone", "not_a_reason");
    expect(errorText(tEn, unknownReason, "en")).toBe("Some information is not valid.");
  });

  it("translates sync errors by their reason, else by their code", () => {
    const rewritten: CoreError = { code: "sync_rejected", message: "x", details: { reason: "log_rewritten" } };
    expect(errorText(tEn, rewritten, "en")).toMatch(/log was changed after this workstation verified it/);
    expect(errorText(tAr, rewritten, "ar")).toBe(ar.reasons.log_rewritten);
    const http: CoreError = { code: "sync_unavailable", message: "x", details: { reason: "http_502", status: "502" } };
    expect(errorText(tEn, http, "en")).toBe(en.errors.sync_unavailable);
    const cashier: CoreError = { code: "forbidden", message: "x", details: { reason: "terminal_not_bound" } };
    expect(errorText(tAr, cashier, "ar")).toBe(ar.reasons.terminal_not_bound);
  });

  it("labels record kinds, falling back to the raw kind", () => {
    expect(kindLabel(tEn, "patient.viewed")).toBe("Patient file opened");
    expect(kindLabel(tAr, "patient.viewed")).toBe("فتح ملف مريض");
    expect(kindLabel(tEn, "future.kind")).toBe("future.kind");
  });
});

describe("command wrapper", () => {
  it("normalises thrown and odd-shaped errors", async () => {
    expect(toCoreError("Command foo not found")).toEqual({ code: "internal", message: "Command foo not found", details: {} });
    expect(toCoreError({ code: "forbidden", message: "no" })).toEqual({ code: "forbidden", message: "no", details: {} });
    const r = await call(() => Promise.reject(new Error("no tauri")));
    expect(r).toEqual({ status: "error", error: { code: "internal", message: "no tauri", details: {} } });
  });
});

describe("formatting", () => {
  it("summarises record payloads without ids or secrets", () => {
    expect(summarizePayload('{"patient_id":"p1","changes":[{"field":"phone","from":"1","to":"2"}]}')).toBe("phone: 1 → 2");
    expect(summarizePayload('{"user_id":"u","username":"sara","password_hash":"x"}')).toBe("username: sara");
    // A refusal's action in words, in the reader's language.
    const denied = '{"action":"patient_view","patient_id":null,"reason":"role cashier lacks patient_view"}';
    const words = (k: string, v: string) => (k === "action" ? tAr(`actions.${v}`) : undefined);
    expect(summarizePayload(denied, 240, words)).toBe("action: فتح ملفات المرضى; reason: role cashier lacks patient_view");
    // A registration's nested form (medical details) is not copied into the trail.
    expect(
      summarizePayload('{"patient_id":"p","file_number":"AB12-00001","fields":{"allergies":"Penicillin"}}'),
    ).toBe("file_number: AB12-00001");
    expect(summarizePayload("not json")).toBe("not json");
  });

  it("computes ages", () => {
    expect(ageInYears("2000-06-15", new Date(2025, 5, 14))).toBe(24);
    expect(ageInYears("2000-06-15", new Date(2025, 5, 15))).toBe(25);
    expect(ageInYears("bad")).toBeNull();
  });
});
