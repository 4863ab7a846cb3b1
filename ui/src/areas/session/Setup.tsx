import { useState, type FormEvent } from "react";
import { commands, type CoreError, type Language, type SessionInfo } from "../../bindings";
import { call } from "../../api";
import { fieldMessage, type FieldMessage } from "../../errors";
import { applyLanguage } from "../../i18n";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field } from "../../components/common";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { SyncIndicator } from "../../components/SyncIndicator";
import { JoinBranch } from "./JoinBranch";

type FormField = "branch_name" | "branch_code" | "admin_username" | "admin_display_name" | "admin_password" | "password_confirm" | "language";

/** The core validates the admin as an ordinary new user; map its field names onto this form. */
const CORE_FIELD: Record<string, FormField> = {
  branch_name: "branch_name",
  branch_code: "branch_code",
  username: "admin_username",
  admin_username: "admin_username",
  display_name: "admin_display_name",
  admin_display_name: "admin_display_name",
  password: "admin_password",
  admin_password: "admin_password",
  language: "language",
};

/**
 * First start: either set up a new branch here (this desk creates it and its first admin), or
 * join an existing branch with an enrolment ticket (the branch and its staff then come from the
 * branch server).
 */
export function Setup({ onDone, onJoined }: { onDone: (session: SessionInfo) => void; onJoined: () => void }) {
  const { t, lang } = useLang("session");
  const [mode, setMode] = useState<"new" | "join">("new");
  return (
    <div className="auth-page">
      <div className="auth-top">
        <SyncIndicator />
        <LanguageSwitch value={lang} onChange={applyLanguage} />
      </div>
      <div className="auth-card-wide setup-choice" role="tablist" aria-label={t("join.choiceLabel")}>
        <button
          type="button"
          role="tab"
          aria-selected={mode === "new"}
          className={mode === "new" ? "choice active" : "choice"}
          data-testid="setup-mode-new"
          onClick={() => setMode("new")}
        >
          {t("join.choiceNew")}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === "join"}
          className={mode === "join" ? "choice active" : "choice"}
          data-testid="setup-mode-join"
          onClick={() => setMode("join")}
        >
          {t("join.choiceJoin")}
        </button>
      </div>
      {mode === "new" ? <NewBranch onDone={onDone} /> : <JoinBranch onJoined={onJoined} />}
    </div>
  );
}

function NewBranch({ onDone }: { onDone: (session: SessionInfo) => void }) {
  const { t, lang } = useLang("session");
  const [branchName, setBranchName] = useState("");
  const [branchCode, setBranchCode] = useState("");
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  // The preferred language is the interface language (the top switch and this select agree).
  const language: Language = lang;
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FormField, FieldMessage>>>({});
  const [error, setError] = useState<CoreError | null>(null);

  const msg = (f: FormField) => {
    const m = fieldErrors[f];
    return m ? t(m.key, m.vars) : null;
  };

  const chooseLanguage = (l: Language) => applyLanguage(l);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (password !== confirm) {
      setFieldErrors({ password_confirm: { key: "setup.passwordMismatch", vars: {} } });
      return;
    }
    setFieldErrors({});
    setBusy(true);
    const r = await call(() =>
      commands.setupBranch({
        branch_name: branchName,
        branch_code: branchCode,
        admin_username: username,
        admin_display_name: displayName,
        admin_password: password,
        language,
      }),
    );
    setBusy(false);
    if (r.status === "ok") {
      onDone(r.data);
      return;
    }
    const fm = fieldMessage(r.error);
    const target = fm ? CORE_FIELD[fm.field] : undefined;
    if (fm && target) setFieldErrors({ [target]: fm.message });
    else setError(r.error);
  }

  return (
    <form className="card auth-card auth-card-wide" onSubmit={submit} noValidate data-testid="setup-form">
        <div className="brand-large">{t("app.name")}</div>
        <h1>{t("setup.title")}</h1>
        <p className="muted">{t("setup.intro")}</p>
        <ErrorMessage error={error} testId="error-banner" />
        <fieldset>
          <legend>{t("setup.branchSection")}</legend>
          <div className="form-grid">
            <Field id="setup-branch-name" label={t("setup.branchName")} error={msg("branch_name")} errorTestId="setup-error-branch_name">
              <input id="setup-branch-name" data-testid="setup-branch-name" value={branchName} onChange={(e) => setBranchName(e.target.value)} autoFocus />
            </Field>
            <Field id="setup-branch-code" label={t("setup.branchCode")} hint={t("setup.branchCodeHint")} error={msg("branch_code")} errorTestId="setup-error-branch_code">
              <input id="setup-branch-code" data-testid="setup-branch-code" dir="ltr" value={branchCode} onChange={(e) => setBranchCode(e.target.value)} />
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>{t("setup.adminSection")}</legend>
          <div className="form-grid">
            <Field id="setup-admin-username" label={t("setup.adminUsername")} error={msg("admin_username")} errorTestId="setup-error-admin_username">
              <input id="setup-admin-username" data-testid="setup-admin-username" dir="ltr" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
            </Field>
            <Field id="setup-admin-name" label={t("setup.adminName")} error={msg("admin_display_name")} errorTestId="setup-error-admin_display_name">
              <input id="setup-admin-name" data-testid="setup-admin-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
            </Field>
            <Field id="setup-password" label={t("setup.password")} error={msg("admin_password")} errorTestId="setup-error-admin_password">
              <input id="setup-password" data-testid="setup-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            </Field>
            <Field id="setup-password-confirm" label={t("setup.passwordConfirm")} error={msg("password_confirm")} errorTestId="setup-error-password_confirm">
              <input id="setup-password-confirm" data-testid="setup-password-confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
            </Field>
            <Field id="setup-language" label={t("setup.language")} error={msg("language")}>
              <select id="setup-language" data-testid="setup-language" value={language} onChange={(e) => chooseLanguage(e.target.value === "ar" ? "ar" : "en")}>
                <option value="en">{t("languages.en")}</option>
                <option value="ar">{t("languages.ar")}</option>
              </select>
            </Field>
          </div>
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid="setup-submit" disabled={busy}>
            {busy ? t("common.working") : t("setup.submit")}
          </button>
        </div>
    </form>
  );
}
