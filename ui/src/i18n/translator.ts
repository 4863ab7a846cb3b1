import i18next, { type TFunction } from "i18next";
import en from "./en.json";
import ar from "./ar.json";

/** A `t` of its own for one language, over the real catalogs (for tests of texts). */
export async function translator(lng: "en" | "ar"): Promise<TFunction> {
  const i = i18next.createInstance();
  await i.init({ lng, resources: { en: { translation: en }, ar: { translation: ar } }, interpolation: { escapeValue: false } });
  return i.t.bind(i) as TFunction;
}
