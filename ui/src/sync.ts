import { useCallback, useEffect, useState } from "react";
import { commands, type SyncStatus } from "./bindings";
import { call } from "./api";

/** How often every screen asks the shell where sync stands. */
export const SYNC_POLL_MS = 2_000;

/**
 * The background sync's status, asked for every 2 s (no session needed: the sign-in and
 * first-run screens show it too). `null` until the first answer, or if the workstation could not
 * open. `refresh` asks again at once (e.g. after "sync now").
 */
export function useSyncStatus(): { status: SyncStatus | null; refresh: () => void; setStatus: (s: SyncStatus) => void } {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const refresh = useCallback(() => {
    void call(() => commands.syncStatus()).then((r) => {
      if (r.status === "ok") setStatus(r.data);
    });
  }, []);
  useEffect(() => {
    refresh();
    const timer = window.setInterval(refresh, SYNC_POLL_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);
  return { status, refresh, setStatus };
}

/** Still taking in the branch's log (shown as a progress bar). */
export function catchingUp(s: SyncStatus): boolean {
  return s.enrolled && s.log_size > 0 && s.applied_to < s.log_size;
}

/** A clock skew in whole minutes (at least 1), for the warning. */
export function skewMinutes(seconds: number): number {
  return Math.max(1, Math.round(Math.abs(seconds) / 60));
}

/** "HH:MM" of an RFC 3339 time, local and with Western digits; "" if unparsable. */
export function clockTime(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}`;
}
