import i18next, { type TFunction } from "i18next";
import { I18N_OPTIONS } from "./resources";

/** A `t` of its own for one language, over the real catalogs (for tests of texts). */
export async function translator(lng: "en" | "ar", ns?: string): Promise<TFunction> {
  const i = i18next.createInstance();
  await i.init({ ...I18N_OPTIONS, lng });
  return i.getFixedT(lng, ns ?? null) as TFunction;
}
