import { useState } from "react";
import { commands, type CoreError, type SessionInfo } from "../../bindings";
import { useCommandForm } from "../../forms";
import { loginSchema, type LoginValues } from "./schema";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, InputField, SubmitButton } from "../../components/common";
import { AuthTop } from "../../components/LanguageSwitch";

export function Login({
  branchName,
  notice,
  onDone,
}: {
  branchName: string | null;
  notice: CoreError | null;
  onDone: (session: SessionInfo) => void;
}) {
  const { t } = useLang("session");
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
      <AuthTop />
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
        <InputField id="login-username" label={t("login.username")} error={message("username")} errorTestId="login-error-username" dir="ltr" autoComplete="username" autoFocus {...form.register("username")} />
        <InputField id="login-password" label={t("login.password")} error={message("password")} errorTestId="login-error-password" type="password" autoComplete="current-password" {...form.register("password")} />
        <div className="form-actions">
          <SubmitButton testId="login-submit" busy={busy} label={t("login.submit")} className="btn btn-primary btn-block" />
        </div>
      </form>
    </div>
  );
}
