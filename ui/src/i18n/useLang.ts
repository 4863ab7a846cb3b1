import { useTranslation } from "react-i18next";
import type { Language } from "../bindings";
import { SHARED_NS } from "./resources";

/**
 * `t` plus the current interface language, re-rendering when it changes. An area passes its
 * namespace (its folder's name): its `t` looks there first, then in the shared texts.
 */
export function useLang(ns: string = SHARED_NS) {
  const { t, i18n } = useTranslation(ns === SHARED_NS ? SHARED_NS : [ns, SHARED_NS], { nsMode: "fallback" });
  const lang: Language = i18n.language === "ar" ? "ar" : "en";
  return { t, lang };
}
