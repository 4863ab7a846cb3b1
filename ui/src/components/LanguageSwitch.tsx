import type { Language } from "../bindings";
import { useTranslation } from "react-i18next";
import { applyLanguage } from "../i18n";
import { SyncIndicator } from "./SyncIndicator";

const LANGUAGES: readonly [Language, string][] = [
  ["en", "EN"],
  ["ar", "عربي"],
];

/** EN / عربي toggle. Labels are each language's own name, so they never get translated. */
export function LanguageSwitch({ value, onChange, disabled }: { value: Language; onChange: (l: Language) => void; disabled?: boolean }) {
  const { t } = useTranslation();
  return (
    <div className="lang-switch" role="group" aria-label={t("languages.switchTo")}>
      {LANGUAGES.map(([l, name]) => (
        <button
          key={l}
          type="button"
          data-testid={`lang-${l}`}
          lang={l}
          aria-pressed={value === l}
          className={value === l ? "active" : ""}
          disabled={disabled}
          onClick={() => onChange(l)}
        >
          {name}
        </button>
      ))}
    </div>
  );
}

/** The `<option>`s of a language `<select>`, each named in the reader's language. */
export function LanguageOptions() {
  const { t } = useTranslation();
  return LANGUAGES.map(([l]) => (
    <option key={l} value={l}>
      {t(`languages.${l}`)}
    </option>
  ));
}

/** The top bar of the screens before the workspace: the sync status, the language switch. */
export function AuthTop({ sync = true }: { sync?: boolean }) {
  const { i18n } = useTranslation();
  return (
    <div className="auth-top">
      {sync ? <SyncIndicator /> : null}
      <LanguageSwitch value={i18n.language === "ar" ? "ar" : "en"} onChange={applyLanguage} />
    </div>
  );
}
