import { useQuery, useQueryClient } from "@tanstack/react-query";
import { commands, type CoreError, type SyncStatus } from "./bindings";
import { run } from "./query";

/** How often every screen asks the shell where sync stands. */
export const SYNC_POLL_MS = 2_000;

export const syncKeys = { status: ["sync", "status"] as const };

/**
 * The background sync's status, asked for every 2 s (no session needed: the sign-in and
 * first-run screens show it too). `null` until the first answer, or if the workstation could not
 * open; a failed ask keeps the last answer (no banner: the pill itself shows sync's problems).
 * `refresh` asks again at once (e.g. after "sync now"); `setStatus` takes an answer in hand.
 */
export function useSyncStatus(): { status: SyncStatus | null; refresh: () => void; setStatus: (s: SyncStatus) => void } {
  const queryClient = useQueryClient();
  const q = useQuery<SyncStatus, CoreError>({
    queryKey: syncKeys.status,
    queryFn: () => run(() => commands.syncStatus()),
    refetchInterval: SYNC_POLL_MS,
    // As the timer it replaces: a window behind others still learns it went online or joined.
    refetchIntervalInBackground: true,
  });
  return {
    status: q.data ?? null,
    refresh: () => void q.refetch(),
    setStatus: (s) => queryClient.setQueryData(syncKeys.status, s),
  };
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
