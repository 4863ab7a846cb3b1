import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { commands, type AppStatus, type BranchInfo, type CoreError, type SyncStatus } from "../../bindings";
import { run } from "../../query";
import { useCommandForm } from "../../forms";
import { joinSchema, type JoinValues } from "./schema";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field, InputField, SubmitButton } from "../../components/common";
import { AuthTop } from "../../components/LanguageSwitch";
import { SyncPill } from "../../components/SyncIndicator";
import { catchingUp, SYNC_POLL_MS, useSyncStatus } from "../../sync";

/** A new desk joins its branch: the enrolment ticket from the branch admin, and a label. */
export function JoinBranch({ onJoined }: { onJoined: () => void }) {
  const { t } = useLang("session");
  const { form, error, busy, message, onSubmit } = useCommandForm<JoinValues, SyncStatus>({
    schema: joinSchema,
    defaultValues: { ticket: "", label: "" },
    send: (v) => commands.enrolWorkstation(v.ticket.trim(), v.label.trim()),
    onDone: () => onJoined(),
    fields: ["ticket", "label"],
  });

  return (
    <form className="card auth-card auth-card-wide" onSubmit={onSubmit} noValidate data-testid="join-form">
      <div className="brand-large">{t("app.name")}</div>
      <h1>{t("join.title")}</h1>
      <p className="muted">{t("join.intro")}</p>
      <ErrorMessage error={error} testId="join-error" />
      <Field id="join-ticket" label={t("join.ticket")} hint={t("join.ticketHint")} error={message("ticket")} errorTestId="join-error-ticket">
        <textarea
          id="join-ticket"
          data-testid="join-ticket"
          dir="ltr"
          rows={3}
          spellCheck={false}
          className="mono"
          {...form.register("ticket")}
          autoFocus
        />
      </Field>
      <InputField id="join-label" label={t("join.label")} hint={t("join.labelHint")} error={message("label")} errorTestId="join-error-label" maxLength={100} {...form.register("label")} />
      <div className="form-actions">
        <SubmitButton testId="join-submit" busy={busy} label={t("join.submit")} busyLabel={t("join.joining")} />
      </div>
    </form>
  );
}

const APP_STATUS_KEY = ["app", "status"] as const;

/**
 * Enrolled, but the branch (and its staff accounts) has not arrived yet: waits for the first
 * sync, asking the core every 2 s whether the workstation is set up now.
 */
export function JoinWaiting({ onReady }: { onReady: (branch: BranchInfo | null) => void }) {
  const { t } = useLang("session");
  const { status } = useSyncStatus();

  // Polled until the branch is here; then the sign-in screen takes over (this one goes).
  const app = useQuery<AppStatus, CoreError>({
    queryKey: APP_STATUS_KEY,
    queryFn: () => run(() => commands.appStatus()),
    refetchInterval: (q) => (q.state.data?.setup_done ? false : SYNC_POLL_MS),
    refetchIntervalInBackground: true,
  });
  const ready = app.data?.setup_done ? app.data : null;
  useEffect(() => {
    if (ready) onReady(ready.branch);
  }, [ready, onReady]);

  return (
    <div className="auth-page">
      <AuthTop sync={false} />
      <div className="card auth-card auth-card-wide" data-testid="join-waiting">
        <div className="brand-large">{t("app.name")}</div>
        <h1>{t("join.waitingTitle")}</h1>
        <p className="muted">{t("join.waitingIntro", { branch: status?.branch_name ?? "" })}</p>
        {status ? (
          <div className="join-status">
            <SyncPill status={status} />
            {catchingUp(status) ? null : <div className="muted">{t(status.online ? "join.waitingOnline" : "join.waitingOffline")}</div>}
          </div>
        ) : null}
      </div>
    </div>
  );
}
