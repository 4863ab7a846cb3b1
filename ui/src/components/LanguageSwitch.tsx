import type { Language } from "../bindings";
import { useTranslation } from "react-i18next";

/** EN / عربي toggle. Labels are each language's own name, so they never get translated. */
export function LanguageSwitch({ value, onChange, disabled }: { value: Language; onChange: (l: Language) => void; disabled?: boolean }) {
  const { t } = useTranslation();
  return (
    <div className="lang-switch" role="group" aria-label={t("languages.switchTo")}>
      <button
        type="button"
        data-testid="lang-en"
        lang="en"
        aria-pressed={value === "en"}
        className={value === "en" ? "active" : ""}
        disabled={disabled}
        onClick={() => onChange("en")}
      >
        EN
      </button>
      <button
        type="button"
        data-testid="lang-ar"
        lang="ar"
        aria-pressed={value === "ar"}
        className={value === "ar" ? "active" : ""}
        disabled={disabled}
        onClick={() => onChange("ar")}
      >
        عربي
      </button>
    </div>
  );
}
