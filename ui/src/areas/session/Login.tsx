import { useState, type FormEvent } from "react";
import { commands, type CoreError, type SessionInfo } from "../../bindings";
import { call } from "../../api";
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
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CoreError | null>(notice);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const r = await call(() => commands.login(username, password));
    setBusy(false);
    if (r.status === "ok") {
      onDone(r.data);
    } else {
      setPassword("");
      setError(r.error);
    }
  }

  return (
    <div className="auth-page">
      <div className="auth-top">
        <SyncIndicator />
        <LanguageSwitch value={lang} onChange={applyLanguage} />
      </div>
      <form className="card auth-card" onSubmit={submit} noValidate data-testid="login-form">
        <div className="brand-large">{t("app.name")}</div>
        {branchName ? (
          <div className="muted" data-testid="login-branch">
            {t("header.branch")}: {branchName}
          </div>
        ) : null}
        <h1>{t("login.title")}</h1>
        <p className="muted">{t("login.intro")}</p>
        <ErrorMessage error={error} testId="login-error" />
        <Field id="login-username" label={t("login.username")}>
          <input
            id="login-username"
            data-testid="login-username"
            dir="ltr"
            autoComplete="username"
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </Field>
        <Field id="login-password" label={t("login.password")}>
          <input
            id="login-password"
            data-testid="login-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
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
