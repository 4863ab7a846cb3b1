// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { QueryClientProvider } from "@tanstack/react-query";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { ReactNode } from "react";
import type { AppStatus, CoreError, SyncStatus } from "./bindings";
import { applyLanguage } from "./i18n";
import { newQueryClient } from "./query";
import { SYNC_POLL_MS } from "./sync";
import { SyncIndicator } from "./components/SyncIndicator";
import { JoinWaiting } from "./areas/session/JoinBranch";

const ENROLLED: SyncStatus = {
  enrolled: true, server_url: "https://10.0.0.5:7443", branch_name: "Riyadh Main", device_kind: "doctor", device_label: "Chair 2",
  online: true, syncing: false, last_sync_at: null, last_error: null, pending: 1, refused: 0, log_size: 0, applied_to: 0,
  clock_skew_seconds: null,
};

/** The shell's answers, changed by the test between two asks; every command asked is counted. */
class Shell {
  sync: SyncStatus = ENROLLED;
  syncFails = false;
  setupDone = false;
  calls: string[] = [];
  count = (cmd: string) => this.calls.filter((c) => c === cmd).length;
  handle = (cmd: string): unknown => {
    this.calls.push(cmd);
    switch (cmd) {
      case "sync_status":
        if (this.syncFails) throw { code: "internal", message: "down", details: {} } satisfies CoreError;
        return this.sync;
      case "sync_now":
        return { ...this.sync, pending: 0 };
      case "app_status":
        return {
          setup_done: this.setupDone,
          branch: this.setupDone ? { id: "b1", code: "RYD01", name: "Riyadh Main" } : null,
          session: null,
          locked: false,
          about: { app_version: "0.1.0", device_id: "aa", key_storage: "file", key_fallback_reason: null, data_dir: "/tmp/d", record_count: 3 },
        } satisfies AppStatus;
      default:
        throw { code: "internal", message: cmd, details: {} } satisfies CoreError;
    }
  };
}

let shell: Shell;

/**
 * Lets `ms` of (fake) time pass, then 1 ms more for what an ask at the end of it brings:
 * TanStack Query hands a result to the screen on a 0 ms timer of its own, which the fake
 * clock runs only once time moves on.
 */
async function pass(ms: number) {
  await act(() => vi.advanceTimersByTimeAsync(ms));
  await act(() => vi.advanceTimersByTimeAsync(1));
}

function renderIn(node: ReactNode) {
  render(<QueryClientProvider client={newQueryClient()}>{node}</QueryClientProvider>);
}

beforeEach(() => {
  vi.useFakeTimers();
  applyLanguage("en");
  shell = new Shell();
  mockIPC((cmd) => shell.handle(cmd));
});

afterEach(() => {
  cleanup();
  clearMocks();
  vi.useRealTimers();
});

describe("polling through the query cache", () => {
  it("the sync pill asks every 2 s, keeps its last answer when an ask fails, and shows sync now's answer at once", async () => {
    renderIn(<SyncIndicator />);
    await pass(0);
    const pill = screen.getByTestId("sync-status");
    expect(pill.getAttribute("data-pending")).toBe("1");
    expect(shell.count("sync_status")).toBe(1);

    shell.sync = { ...ENROLLED, pending: 2 };
    await pass(SYNC_POLL_MS - 100);
    expect(shell.count("sync_status")).toBe(1);
    expect(pill.getAttribute("data-pending")).toBe("1");
    await pass(100);
    expect(shell.count("sync_status")).toBe(2);
    expect(pill.getAttribute("data-pending")).toBe("2");

    // The shell does not answer: the pill stays as it was, and no error is shown.
    shell.syncFails = true;
    await pass(SYNC_POLL_MS);
    expect(shell.count("sync_status")).toBe(3);
    expect(screen.getByTestId("sync-status").getAttribute("data-pending")).toBe("2");
    expect(screen.queryByRole("alert")).toBeNull();

    // "Sync now" answers with the new status, shown before the next ask.
    shell.syncFails = false;
    fireEvent.click(screen.getByTestId("sync-now"));
    await pass(0);
    expect(screen.getByTestId("sync-status").getAttribute("data-pending")).toBe("0");
    expect(shell.count("sync_status")).toBe(3);
    await pass(SYNC_POLL_MS * 2);
    expect(shell.count("sync_status")).toBe(5);
  });

  it("a joined desk asks every 2 s whether the branch has arrived, goes on once, and stops asking", async () => {
    const onReady = vi.fn();
    shell.sync = { ...ENROLLED, log_size: 10, applied_to: 4, syncing: true };
    renderIn(<JoinWaiting onReady={onReady} />);
    await pass(0);
    expect(screen.getByTestId("join-waiting").textContent).toContain("Riyadh Main");
    expect(screen.getByTestId("sync-progress").textContent).toContain("4 / 10");
    expect(shell.count("app_status")).toBe(1);

    shell.sync = { ...ENROLLED, log_size: 10, applied_to: 7, syncing: true };
    await pass(SYNC_POLL_MS);
    expect(shell.count("app_status")).toBe(2);
    expect(screen.getByTestId("sync-progress").textContent).toContain("7 / 10");
    expect(onReady).not.toHaveBeenCalled();

    shell.setupDone = true;
    await pass(SYNC_POLL_MS);
    expect(shell.count("app_status")).toBe(3);
    expect(onReady).toHaveBeenCalledTimes(1);
    expect(onReady).toHaveBeenCalledWith({ id: "b1", code: "RYD01", name: "Riyadh Main" });

    await pass(SYNC_POLL_MS * 3);
    expect(shell.count("app_status")).toBe(3);
    expect(onReady).toHaveBeenCalledTimes(1);
  });
});
