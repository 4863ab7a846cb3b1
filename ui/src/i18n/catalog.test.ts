import { describe, expect, it } from "vitest";
import { NAMESPACES, RESOURCES } from "./resources";
import { ACTIONS, ERROR_CODES, REASONS, ROLES } from "../errors";
import { KIND_GROUPS, KNOWN_KINDS, VERIFY_REASONS } from "../auditFormat";
import { translator } from "./translator";
import { AREAS } from "../areas";

type Tree = { [k: string]: string | Tree };

function leaves(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === "string") out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

// i18next plural forms (`key_one`, `key_other`, ...): each language has its own categories
// (English two, Arabic six), so catalogs are compared by the key without the suffix.
const PLURAL = /_(zero|one|two|few|many|other)$/;
const base = (key: string) => key.replace(PLURAL, "");

/** The catalog with plural forms folded into their base key. */
function folded(catalog: Map<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of catalog) out.set(base(k), [...(out.get(base(k)) ?? []), v]);
  return out;
}

/** One language's namespaces, each as its leaves. */
const byNamespace = (lang: "en" | "ar") =>
  new Map(NAMESPACES.map((ns) => [ns, leaves((RESOURCES[lang][ns] ?? {}) as Tree)] as const));
const EN_NS = byNamespace("en");
const AR_NS = byNamespace("ar");
/** All of a language's texts: keys keep their full path, so namespaces never share a key. */
const union = (byNs: Map<string, Map<string, string>>) => new Map([...byNs.values()].flatMap((m) => [...m]));
const EN = union(EN_NS);
const AR = union(AR_NS);
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

/** The reasons the UI's form schemas give (`reason("…")` in any source file). */
const SOURCES = import.meta.glob<string>(["../**/*.{ts,tsx}", "!../**/*.test.{ts,tsx}"], { eager: true, query: "?raw", import: "default" });
const FORM_REASONS = [...new Set(Object.values(SOURCES).flatMap((s) => [...s.matchAll(/\breason\("([a-z_]+)"/g)].map((m) => m[1] ?? "")))];

describe("translation catalogs", () => {
  it("has the shared texts and one namespace per area folder", () => {
    expect(NAMESPACES).toContain("translation");
    // Every area of the nav, and the signed-out screens' texts.
    for (const area of [...AREAS.map((a) => a.id), "session"]) expect(NAMESPACES).toContain(area);
  });

  it.each(NAMESPACES)("namespace %s: en and ar have exactly the same keys", (ns) => {
    const [en, ar] = [folded(EN_NS.get(ns) ?? new Map()), folded(AR_NS.get(ns) ?? new Map())];
    expect(en.size, `${ns} has texts`).toBeGreaterThan(0);
    const onlyEn = [...en.keys()].filter((k) => !ar.has(k));
    const onlyAr = [...ar.keys()].filter((k) => !en.has(k));
    expect(onlyEn).toEqual([]);
    expect(onlyAr).toEqual([]);
  });

  it.each([
    ["en", EN_NS],
    ["ar", AR_NS],
  ] as const)("%s: no key is in two namespaces (any t finds any key, so it must be unambiguous)", (_lang, byNs) => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const [ns, catalog] of byNs) {
      for (const k of catalog.keys()) {
        const other = seen.get(k);
        if (other !== undefined) twice.push(`${k} (${other}, ${ns})`);
        seen.set(k, ns);
      }
    }
    expect(twice).toEqual([]);
  });

  it.each([
    ["en", EN],
    ["ar", AR],
  ] as const)("%s gives every plural key exactly its language's plural forms", (lang, catalog) => {
    const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories.slice().sort();
    const plurals = new Set([...catalog.keys()].filter((k) => PLURAL.test(k)).map(base));
    expect(plurals.size).toBeGreaterThan(0);
    for (const key of plurals) {
      const forms = [...catalog.keys()].filter((k) => base(k) === key && PLURAL.test(k));
      expect(forms.map((k) => k.slice(key.length + 1)).sort(), key).toEqual(categories);
    }
  });

  it("no translation is empty", () => {
    for (const [k, v] of [...EN, ...AR]) expect(v.trim(), k).not.toBe("");
  });

  it("uses the same {{placeholders}} in both languages", () => {
    for (const [k, v] of EN) {
      if (PLURAL.test(k)) continue;
      expect(placeholders(AR.get(k) ?? ""), k).toEqual(placeholders(v));
    }
    // A plural form may leave the number out ("one record"), never add another placeholder.
    const en = folded(EN);
    for (const [k, v] of AR) {
      if (!PLURAL.test(k)) continue;
      const allowed = new Set((en.get(base(k)) ?? []).flatMap(placeholders));
      for (const p of placeholders(v)) expect(allowed.has(p), `${k}: ${p}`).toBe(true);
    }
  });

  it("the Arabic catalog is actually Arabic", () => {
    const arabic = /[\u0600-\u06FF]/;
    // Leaving out placeholders and the brand name, any Latin word must come with Arabic text.
    const notArabic = [...AR].filter(([, v]) => {
      const rest = v.replace(/\{\{\s*\w+\s*\}\}/g, "").replace(/DentPro/g, "");
      return /[A-Za-z]/.test(rest) && !arabic.test(rest);
    });
    expect(notArabic).toEqual([]);
  });

  it.each(ERROR_CODES)("error code %s is translated in both languages", (code) => {
    expect(EN.has(`errors.${code}`)).toBe(true);
    expect(AR.has(`errors.${code}`)).toBe(true);
  });

  it.each([...VERIFY_REASONS])("verification problem %s is translated in both languages", (reason) => {
    expect(EN.has(`audit.problems.${reason}`)).toBe(true);
    expect(AR.has(`audit.problems.${reason}`)).toBe(true);
  });

  it("finds the reasons in every catalog: the shared one's and the areas'", () => {
    expect(REASONS).toContain("required");
    expect(REASONS).toContain("licence_taken");
  });

  it.each([...REASONS])("reason %s is translated in both languages", (reason) => {
    expect(EN.has(`reasons.${reason}`)).toBe(true);
    expect(AR.has(`reasons.${reason}`)).toBe(true);
  });

  it.each(FORM_REASONS)("reason %s, which a form's schema gives, has its text", (reason) => {
    expect(REASONS).toContain(reason);
  });

  it.each([...ACTIONS])("action %s is named in both languages", (action) => {
    expect(EN.has(`actions.${action}`)).toBe(true);
    expect(AR.has(`actions.${action}`)).toBe(true);
  });

  it("every role, record kind and kind group has a label", () => {
    for (const role of ROLES) expect(EN.has(`roles.${role}`), role).toBe(true);
    for (const kind of KNOWN_KINDS) expect(EN.has(`kinds.${kind.replace(/\./g, "_")}`), kind).toBe(true);
    for (const g of KIND_GROUPS) expect(EN.has(`audit.group.${g}`), g).toBe(true);
  });

  it("has a label for every patient and account field the core may name", () => {
    const fields = [
      "branch_name", "branch_code", "username", "display_name", "password", "name_en", "name_ar",
      "date_of_birth", "sex", "phone", "national_id", "address", "emergency_contact", "allergies",
      "chronic_diseases", "current_medications", "medical_history", "idle_lock_minutes", "user",
      "ticket", "label",
    ];
    for (const f of fields) expect(EN.has(`fields.${f}`) && AR.has(`fields.${f}`), f).toBe(true);
  });
});

describe("plural texts", () => {
  it("count records in each language's grammar", async () => {
    const [tEn, tAr] = [await translator("en"), await translator("ar")];
    expect([1, 7].map((count) => tEn("devices.behind", { count }))).toEqual(["1 record behind", "7 records behind"]);
    expect([1, 2, 7, 40, 100].map((count) => tAr("devices.behind", { count }))).toEqual([
      "متأخر سجلًا واحدًا",
      "متأخر سجلين",
      "متأخر 7 سجلات",
      "متأخر 40 سجلًا",
      "متأخر 100 سجل",
    ]);
  });
});
