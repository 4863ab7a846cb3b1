import { useState } from "react";
import { commands, type CoreError, type SessionInfo } from "../../bindings";
import { useCommandForm } from "../../forms";
import { loginSchema, type LoginValues } from "./schema";
import { applyLanguage } from "../../i18n";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field } from "../../components/common";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { SyncIndicator } from "../../components/SyncIndicator";

export function Login({
  branchName,
  notice,
  onDone,
}: {
  branchName: string | null;
  notice: CoreError | null;
  onDone: (session: SessionInfo) => void;
}) {
  const { t, lang } = useLang("session");
  const { form, error, busy, message, onSubmit } = useCommandForm<LoginValues, SessionInfo>({
    schema: loginSchema,
    defaultValues: { username: "", password: "" },
    send: (v) => commands.login(v.username, v.password),
    onDone: (session) => onDone(session),
    fields: [],
    onRefused: () => {
      form.resetField("password");
      return false;
    },
  });
  // Why the last session ended (locked out, signed out elsewhere) until the next attempt.
  const [showNotice, setShowNotice] = useState(true);
  const shown = error ?? (showNotice ? notice : null);

  return (
    <div className="auth-page">
      <div className="auth-top">
        <SyncIndicator />
        <LanguageSwitch value={lang} onChange={applyLanguage} />
      </div>
      <form className="card auth-card" onSubmit={(e) => { setShowNotice(false); onSubmit(e); }} noValidate data-testid="login-form">
        <div className="brand-large">{t("app.name")}</div>
        {branchName ? (
          <div className="muted" data-testid="login-branch">
            {t("header.branch")}: {branchName}
          </div>
        ) : null}
        <h1>{t("login.title")}</h1>
        <p className="muted">{t("login.intro")}</p>
        <ErrorMessage error={shown} testId="login-error" />
        <Field id="login-username" label={t("login.username")} error={message("username")} errorTestId="login-error-username">
          <input
            id="login-username"
            data-testid="login-username"
            dir="ltr"
            autoComplete="username"
            autoFocus
            {...form.register("username")}
          />
        </Field>
        <Field id="login-password" label={t("login.password")} error={message("password")} errorTestId="login-error-password">
          <input
            id="login-password"
            data-testid="login-password"
            type="password"
            autoComplete="current-password"
            {...form.register("password")}
          />
        </Field>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary btn-block" data-testid="login-submit" disabled={busy}>
            {busy ? t("common.working") : t("login.submit")}
          </button>
        </div>
      </form>
    </div>
  );
}
