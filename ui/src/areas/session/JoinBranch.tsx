import { useEffect, useState, type FormEvent } from "react";
import { commands, type BranchInfo, type CoreError } from "../../bindings";
import { call } from "../../api";
import { fieldMessage, type FieldMessage } from "../../errors";
import { applyLanguage } from "../../i18n";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field } from "../../components/common";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { SyncPill } from "../../components/SyncIndicator";
import { catchingUp, SYNC_POLL_MS, useSyncStatus } from "../../sync";

type JoinField = "ticket" | "label";

/** A new desk joins its branch: the enrolment ticket from the branch admin, and a label. */
export function JoinBranch({ onJoined }: { onJoined: () => void }) {
  const { t } = useLang("session");
  const [ticket, setTicket] = useState("");
  const [label, setLabel] = useState("");
  const [busy, setBusy] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<JoinField, FieldMessage>>>({});
  const [error, setError] = useState<CoreError | null>(null);

  const msg = (f: JoinField) => {
    const m = fieldErrors[f];
    return m ? t(m.key, m.vars) : null;
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setFieldErrors({});
    setBusy(true);
    const r = await call(() => commands.enrolWorkstation(ticket.trim(), label.trim()));
    setBusy(false);
    if (r.status === "ok") {
      onJoined();
      return;
    }
    const fm = fieldMessage(r.error);
    if (fm && (fm.field === "ticket" || fm.field === "label")) setFieldErrors({ [fm.field]: fm.message });
    else setError(r.error);
  }

  return (
    <form className="card auth-card auth-card-wide" onSubmit={submit} noValidate data-testid="join-form">
      <div className="brand-large">{t("app.name")}</div>
      <h1>{t("join.title")}</h1>
      <p className="muted">{t("join.intro")}</p>
      <ErrorMessage error={error} testId="join-error" />
      <Field id="join-ticket" label={t("join.ticket")} hint={t("join.ticketHint")} error={msg("ticket")} errorTestId="join-error-ticket">
        <textarea
          id="join-ticket"
          data-testid="join-ticket"
          dir="ltr"
          rows={3}
          spellCheck={false}
          className="mono"
          value={ticket}
          onChange={(e) => {
            setTicket(e.target.value);
            setFieldErrors((f) => ({ ...f, ticket: undefined }));
          }}
          autoFocus
        />
      </Field>
      <Field id="join-label" label={t("join.label")} hint={t("join.labelHint")} error={msg("label")} errorTestId="join-error-label">
        <input
          id="join-label"
          data-testid="join-label"
          maxLength={100}
          value={label}
          onChange={(e) => {
            setLabel(e.target.value);
            setFieldErrors((f) => ({ ...f, label: undefined }));
          }}
        />
      </Field>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" data-testid="join-submit" disabled={busy}>
          {busy ? t("join.joining") : t("join.submit")}
        </button>
      </div>
    </form>
  );
}

/**
 * Enrolled, but the branch (and its staff accounts) has not arrived yet: waits for the first
 * sync, asking the core every 2 s whether the workstation is set up now.
 */
export function JoinWaiting({ onReady }: { onReady: (branch: BranchInfo | null) => void }) {
  const { t, lang } = useLang("session");
  const { status } = useSyncStatus();

  useEffect(() => {
    let done = false;
    const check = () => {
      void call(() => commands.appStatus()).then((r) => {
        if (!done && r.status === "ok" && r.data.setup_done) {
          done = true;
          onReady(r.data.branch);
        }
      });
    };
    check();
    const timer = window.setInterval(check, SYNC_POLL_MS);
    return () => {
      done = true;
      window.clearInterval(timer);
    };
  }, [onReady]);

  return (
    <div className="auth-page">
      <div className="auth-top">
        <LanguageSwitch value={lang} onChange={applyLanguage} />
      </div>
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
