import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import type { Language } from "../bindings";
import { I18N_OPTIONS } from "./resources";

export const LANGUAGES: readonly Language[] = ["en", "ar"];
const STORAGE_KEY = "dentpro.language";

function storedLanguage(): Language {
  try {
    const v = window.localStorage.getItem(STORAGE_KEY);
    return v === "ar" ? "ar" : "en";
  } catch {
    return "en";
  }
}

/** Sets the document direction and language attributes for `lang`. */
function applyDocument(lang: Language): void {
  const root = document.documentElement;
  root.lang = lang;
  root.dir = lang === "ar" ? "rtl" : "ltr";
}

void i18n.use(initReactI18next).init({ ...I18N_OPTIONS, lng: storedLanguage() });
applyDocument(storedLanguage());

/** Switches the interface language at once: texts, direction (RTL for Arabic) and lang. */
export function applyLanguage(lang: Language): void {
  applyDocument(lang);
  try {
    window.localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Storage may be unavailable; the language still applies for this run.
  }
  if (i18n.language !== lang) void i18n.changeLanguage(lang);
}

export function currentLanguage(): Language {
  return i18n.language === "ar" ? "ar" : "en";
}

export default i18n;
