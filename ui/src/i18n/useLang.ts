import { useTranslation } from "react-i18next";
import type { Language } from "../bindings";

/** `t` plus the current interface language, re-rendering when it changes. */
export function useLang() {
  const { t, i18n } = useTranslation();
  const lang: Language = i18n.language === "ar" ? "ar" : "en";
  return { t, lang };
}
