import { expect } from "vitest";
import type { z } from "zod";
import { messageOf } from "../forms";
import { translator } from "../i18n/translator";

/**
 * The fields a form's schema blames for `values` laid over `valid`, each with its text in
 * English and Arabic. Fails when a message is not a text key, or has no text in a language.
 */
export async function problems<V extends object>(schema: z.ZodType, valid: V, values: Partial<Record<keyof V, unknown>> = {}) {
  const r = schema.safeParse({ ...valid, ...values });
  if (r.success) return {};
  const [tEn, tAr] = [await translator("en"), await translator("ar")];
  const out: Record<string, [string, string]> = {};
  for (const issue of r.error.issues) {
    const m = messageOf(issue);
    if (!m) throw new Error(`no text key in ${issue.message}`);
    const [en, ar] = [tEn(m.key, m.vars), tAr(m.key, m.vars)];
    if (en === m.key || ar === m.key) throw new Error(`no text for ${m.key}`);
    out[issue.path.join(".")] = [en, ar];
  }
  return out;
}

/** `values` over `valid` draw exactly one message, under `field`: `en` in English, Arabic script in Arabic. */
export async function expectOneProblem<V extends object>(
  schema: z.ZodType,
  valid: V,
  values: Partial<Record<keyof V, unknown>>,
  field: string,
  en: string,
  ar?: string | null,
) {
  const found = await problems(schema, valid, values);
  expect(Object.keys(found)).toEqual([field]);
  expect(found[field]?.[0]).toBe(en);
  if (ar) expect(found[field]?.[1]).toBe(ar);
  expect(found[field]?.[1]).toMatch(/[\u0600-\u06FF]/);
}
