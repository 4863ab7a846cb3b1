import { useState } from "react";
import { commands, type SyncStatus } from "../bindings";
import { call } from "../api";
import { errorText } from "../errors";
import { useLang } from "../i18n/useLang";
import { catchingUp, clockTime, skewMinutes, useSyncStatus } from "../sync";
import { Ltr } from "./common";

/**
 * The sync status pill of the header (and of the sign-in and first-run screens): online/offline
 * dot, records waiting to be sent, time of the last sync, a progress bar while catching up, and
 * warnings for a wrong clock and for records the server refused. Renders nothing on a workstation
 * that is not enrolled with a branch server.
 */
export function SyncIndicator() {
  const { status, refresh, setStatus } = useSyncStatus();
  if (!status?.enrolled) return null;
  return <SyncPill status={status} onSyncNow={(s) => (s ? setStatus(s) : refresh())} />;
}

export function SyncPill({ status: s, onSyncNow }: { status: SyncStatus; onSyncNow?: (s: SyncStatus | null) => void }) {
  const { t, lang } = useLang();
  const [asking, setAsking] = useState(false);
  const connecting = !s.online && !s.last_error;
  const state = s.online ? "online" : connecting ? "connecting" : "offline";
  const error = s.last_error ? errorText(t, s.last_error, lang) : null;
  const behind = catchingUp(s);
  const last = clockTime(s.last_sync_at);

  const syncNow = async () => {
    setAsking(true);
    const r = await call(() => commands.syncNow());
    setAsking(false);
    onSyncNow?.(r.status === "ok" ? r.data : null);
  };

  return (
    <div
      className={`sync-indicator sync-${state}`}
      data-testid="sync-status"
      data-online={s.online ? "true" : "false"}
      data-syncing={s.syncing ? "true" : "false"}
      data-pending={s.pending}
      data-refused={s.refused}
      data-error-code={s.last_error?.code ?? ""}
      title={[s.branch_name, s.server_url, error].filter(Boolean).join(" — ")}
      role="status"
    >
      <span className="sync-dot" aria-hidden="true" />
      <span className="sync-state" data-testid="sync-state">
        {t(`sync.${state}`)}
      </span>
      {s.pending > 0 ? (
        <span className="sync-item" data-testid="sync-pending">
          {t("sync.pending", { n: s.pending })}
        </span>
      ) : null}
      <span className="sync-item" data-testid="sync-last">
        {last ? t("sync.lastSync", { time: last }) : t("sync.never")}
      </span>
      {behind ? (
        <span className="sync-item sync-progress" data-testid="sync-progress">
          <progress value={s.applied_to} max={s.log_size} />
          <span>
            {t("sync.catchingUp")}{" "}
            <Ltr>
              {s.applied_to} / {s.log_size}
            </Ltr>
          </span>
        </span>
      ) : null}
      {s.clock_skew_seconds !== null ? (
        <span className="sync-item sync-warn" data-testid="sync-clock-warning" data-seconds={s.clock_skew_seconds}>
          {t(s.clock_skew_seconds > 0 ? "sync.clockAhead" : "sync.clockBehind", { minutes: skewMinutes(s.clock_skew_seconds) })}
        </span>
      ) : null}
      {s.refused > 0 ? (
        <span className="sync-item sync-warn" data-testid="sync-refused">
          {t("sync.refused", { n: s.refused })}
        </span>
      ) : null}
      {s.last_error?.code === "sync_rejected" ? (
        <span className="sync-item sync-alert" data-testid="sync-error" data-reason={s.last_error.details.reason ?? ""}>
          {error}
        </span>
      ) : null}
      <button
        type="button"
        className="sync-now"
        data-testid="sync-now"
        onClick={() => void syncNow()}
        disabled={asking || s.syncing}
        title={t("sync.syncNow")}
        aria-label={t("sync.syncNow")}
      >
        ↻
      </button>
    </div>
  );
}
