import { commands, type CoreError, type SessionInfo } from "../../bindings";
import { isSessionProblem } from "../../api";
import { useCommandForm } from "../../forms";
import { unlockSchema, type UnlockValues } from "./schema";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, InputField, SubmitButton } from "../../components/common";
import { SyncIndicator } from "../../components/SyncIndicator";

/** Shown over the (hidden) workspace once the core reports the session idle-locked. */
export function Lock({
  displayName,
  onUnlocked,
  onSignOut,
  onSessionEnded,
}: {
  displayName: string;
  onUnlocked: (session: SessionInfo) => void;
  onSignOut: () => void;
  onSessionEnded: (why: CoreError) => void;
}) {
  const { t } = useLang("session");
  const { form, error, busy, message, onSubmit } = useCommandForm<UnlockValues, SessionInfo>({
    schema: unlockSchema,
    defaultValues: { password: "" },
    send: (v) => commands.unlock(v.password),
    onDone: (session) => {
      form.reset();
      onUnlocked(session);
    },
    fields: [],
    onRefused: (e) => {
      form.resetField("password");
      // Too many wrong passwords end the session: continue at the sign-in screen.
      if (e.code === "account_locked" || isSessionProblem(e)) {
        onSessionEnded(e);
        return true;
      }
      return false;
    },
  });

  return (
    <div className="auth-page lock-page" data-testid="lock-screen">
      <div className="auth-top">
        <SyncIndicator />
      </div>
      <form className="card auth-card" onSubmit={onSubmit} noValidate>
        <svg className="lock-icon" viewBox="0 0 24 24" width="36" height="36" aria-hidden="true">
          <rect x="4" y="10" width="16" height="11" rx="2" fill="currentColor" />
          <path d="M8 10V7a4 4 0 0 1 8 0v3" fill="none" stroke="currentColor" strokeWidth="2" />
        </svg>
        <h1>{t("lock.title")}</h1>
        <p className="muted" data-testid="lock-user">
          {t("lock.intro", { name: displayName })}
        </p>
        <ErrorMessage error={error} testId="lock-error" />
        <InputField id="lock-password" label={t("lock.password")} error={message("password")} errorTestId="lock-error-password" type="password" autoComplete="current-password" autoFocus {...form.register("password")} />
        <div className="form-actions">
          <SubmitButton testId="lock-submit" busy={busy} label={t("lock.submit")} className="btn btn-primary btn-block" />
        </div>
        <button type="button" className="link-button" data-testid="lock-logout" onClick={onSignOut}>
          {t("lock.signOut")}
        </button>
      </form>
    </div>
  );
}
