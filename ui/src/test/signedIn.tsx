import { afterEach, beforeEach } from "vitest";
import { cleanup, render } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { applyLanguage } from "../i18n";
import type { Action, AppStatus, CoreError, Language, SessionInfo, SyncStatus } from "../bindings";
import { App } from "../App";

/** A command's stand-in: its answer, or a thrown `CoreError` (see `refuse`). */
export type Handler = (args: Record<string, unknown>) => unknown;

export function refuse(code: CoreError["code"], details: Record<string, string> = {}): never {
  throw { code, message: code, details } satisfies CoreError;
}

const NOT_ENROLLED: SyncStatus = {
  enrolled: false, server_url: null, branch_name: null, device_kind: null, device_label: null, online: false,
  syncing: false, last_sync_at: null, last_error: null, pending: 0, refused: 0, log_size: 0, applied_to: 0,
  clock_skew_seconds: null,
};

/**
 * The app, already signed in with `actions`, over a mocked IPC: the shell's own commands are
 * answered here, an area's by `handlers`. `calls` lists every command asked, with its arguments.
 */
export function startSignedIn(actions: Action[], handlers: Record<string, Handler>, language: Language = "en") {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let session: SessionInfo = {
    session_id: "s1", user_id: "u1", username: "adel", display_name: "Adel Admin", role: "admin", language,
    allowed_actions: actions, idle_lock_minutes: 10,
  };
  const shell: Record<string, Handler> = {
    app_status: () =>
      ({
        setup_done: true,
        branch: { id: "b1", code: "RYD01", name: "Riyadh Main" },
        session,
        locked: false,
        about: { app_version: "0.1.0", device_id: "dev-1", key_storage: "keyring", key_fallback_reason: null, data_dir: "/tmp/d", record_count: 3 },
      }) satisfies AppStatus,
    sync_status: () => NOT_ENROLLED,
    heartbeat: () => null,
    set_language: (args) => (session = { ...session, language: args.language as Language }),
  };
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    const handler = handlers[cmd] ?? shell[cmd];
    return handler ? handler(a) : refuse("internal");
  });
  render(<App />);
  return { calls, count: (cmd: string) => calls.filter((c) => c.cmd === cmd).length };
}

/** Each test starts in English with no mocked IPC; the rendered app goes after it. */
export function freshAppPerTest() {
  beforeEach(() => applyLanguage("en"));
  afterEach(() => {
    cleanup();
    clearMocks();
  });
}
