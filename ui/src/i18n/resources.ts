import type { Language } from "../bindings";
import en from "./en.json";
import ar from "./ar.json";

/** A text catalog: nested keys down to strings. */
export type Catalog = { [key: string]: string | Catalog };

/**
 * The shared texts (errors, reasons, fields, roles, kinds, nav, common words) are the default
 * namespace `translation`; each area's own texts are the namespace named after its folder,
 * `areas/<area>/i18n/<lang>.json`, found here by file name, so an area adds its texts without
 * touching this file. An area's keys keep their full path (`patients.title`, not `title`), so a
 * key reads the same in code, catalogs and tests, whichever namespace holds it.
 */
export const SHARED_NS = "translation";

const areaFiles = import.meta.glob<Catalog>("../areas/*/i18n/*.json", { eager: true, import: "default" });

function areaCatalogs(lang: Language): Record<string, Catalog> {
  const out: Record<string, Catalog> = {};
  for (const [path, catalog] of Object.entries(areaFiles)) {
    const m = /\/areas\/([^/]+)\/i18n\/([a-z]+)\.json$/.exec(path);
    if (m && m[2] === lang && m[1]) out[m[1]] = catalog;
  }
  return out;
}

/** Every language's namespaces: `{ en: { translation, patients, users, … }, ar: { … } }`. */
export const RESOURCES: Record<Language, Record<string, Catalog>> = {
  en: { [SHARED_NS]: en, ...areaCatalogs("en") },
  ar: { [SHARED_NS]: ar, ...areaCatalogs("ar") },
};

/** The namespaces of either language (the catalog test checks that both have the same). */
export const NAMESPACES: string[] = [...new Set([...Object.keys(RESOURCES.en), ...Object.keys(RESOURCES.ar)])];

/** Options shared by the app's i18next instance and the tests' translators. */
export const I18N_OPTIONS = {
  resources: RESOURCES,
  ns: NAMESPACES,
  defaultNS: SHARED_NS,
  // Any `t` finds any key: an area's `t` reaches the shared texts (errors, fields, common
  // words), and shared components (table heads, notices) an area's keys. Keys keep their full
  // path and no key is in two namespaces (the catalog test checks), so this is unambiguous.
  fallbackNS: NAMESPACES,
  fallbackLng: "en",
  supportedLngs: ["en", "ar"],
  interpolation: { escapeValue: false },
  returnNull: false,
} as const;
