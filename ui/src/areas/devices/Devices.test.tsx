// @vitest-environment jsdom
import { beforeAll, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { mockIPC } from "@tauri-apps/api/mocks";
import type { TFunction } from "i18next";
import type { Action, AppStatus, BranchDevice, CoreError, DeviceOverview, DeviceStatus, Language, SessionInfo, SyncStatus } from "../../bindings";
import ar from "../../i18n/ar.json";
import { DEVICE_KINDS, errorText } from "../../errors";
import { translator } from "../../i18n/translator";
import { App } from "../../App";
import { freshAppPerTest } from "../../test/signedIn";

const THIS = "aaaa0000111122223333444455556666";
const CHAIR = "bbbb0000111122223333444455556666";
const TILL = "cccc0000111122223333444455556666";
const NEW = "dddd0000111122223333444455556666";

const ADMIN: Action[] = ["device_list", "device_revoke", "patient_search"];
const MANAGER: Action[] = ["device_list", "user_list", "audit_view"];

function status(id: string, more: Partial<DeviceStatus> = {}): DeviceStatus {
  return {
    device_id: id,
    kind: "reception",
    label: "",
    enrolled_at: "2030-01-02T08:00:00.000Z",
    this_workstation: false,
    revoked: null,
    server_revoked_at: null,
    server_only: false,
    last_seen_at: "2030-01-02T09:30:00.000Z",
    logged_seq: 12,
    pull_lag: 0,
    ...more,
  };
}

/** The devices the core knows, and whether the branch server answers. */
class FakeBranch {
  online = true;
  calls: { cmd: string; args: Record<string, unknown> }[] = [];
  devices: DeviceStatus[] = [
    status(THIS, { label: "Front desk", this_workstation: true }),
    status(CHAIR, { kind: "doctor", label: "Chair 2", pull_lag: 7, last_seen_at: "2030-01-02T09:05:00.000Z" }),
    status(TILL, {
      kind: "cashier_terminal",
      label: "Till 1",
      revoked: { revoked_at: "2030-01-01T10:00:00.000Z", by_user_id: "u1", by_name: "Adel Admin", by_device_id: THIS, reason: "Broken screen" },
      server_revoked_at: "2030-01-01T10:01:00.000Z",
    }),
    status(NEW, { kind: "manager_desktop", label: "Office", enrolled_at: "2030-01-02T09:00:00.000Z", server_only: true, last_seen_at: null, pull_lag: 40 }),
  ];
  sync: SyncStatus = {
    enrolled: true, server_url: "https://10.0.0.5:7443", branch_name: "Riyadh Main", device_kind: "reception", device_label: "Front desk",
    online: true, syncing: false, last_sync_at: null, last_error: null, pending: 0, refused: 0, log_size: 10, applied_to: 10, clock_skew_seconds: null,
  };

  constructor(private actions: Action[], private language: Language = "en") {}

  session(): SessionInfo {
    return { session_id: "s1", user_id: "u1", username: "adel", display_name: "Adel Admin", role: "admin", language: this.language, allowed_actions: this.actions, idle_lock_minutes: 10 };
  }

  handle = (cmd: string, args: Record<string, unknown> = {}): unknown => {
    this.calls.push({ cmd, args });
    const fail = (code: CoreError["code"], details: Record<string, string> = {}): never => {
      throw { code, message: code, details } satisfies CoreError;
    };
    switch (cmd) {
      case "app_status":
        return {
          setup_done: true,
          branch: { id: "b1", code: "RYD01", name: "Riyadh Main" },
          session: this.session(),
          locked: false,
          about: { app_version: "0.1.0", device_id: THIS, key_storage: "keyring", key_fallback_reason: null, data_dir: "/tmp/d", record_count: 3 },
        } satisfies AppStatus;
      case "sync_status":
      case "sync_now":
        return this.sync;
      case "heartbeat":
        return null;
      case "set_language":
        this.language = args.language as Language;
        return this.session();
      case "search_patients":
        return [];
      case "device_overview": {
        if (!this.actions.includes("device_list")) fail("forbidden", { action: "device_list", role: "doctor" });
        const devices = this.online
          ? this.devices
          : this.devices
              .filter((d) => !d.server_only)
              .map((d) => ({ ...d, last_seen_at: null, logged_seq: null, pull_lag: null, server_revoked_at: null }));
        return {
          devices,
          enrolled: true,
          live: this.online,
          live_error: this.online ? null : { code: "sync_unavailable", message: "the branch server cannot be reached", details: {} },
        } satisfies DeviceOverview;
      }
      case "revoke_device": {
        const reason = String(args.reason).trim();
        if (!reason) fail("invalid", { field: "reason", reason: "required" });
        const d = this.devices.find((x) => x.device_id === args.deviceId) ?? fail("invalid", { field: "device_id", reason: "unknown_device" });
        d.revoked = { revoked_at: "2030-01-02T10:00:00.000Z", by_user_id: "u1", by_name: "Adel Admin", by_device_id: THIS, reason };
        return { device_id: d.device_id, kind: d.kind, label: d.label, enrolled_at: d.enrolled_at ?? "", revoked: d.revoked } satisfies BranchDevice;
      }
      default:
        return fail("internal");
    }
  };
}

let branch: FakeBranch;

function start(actions: Action[], language: Language = "en") {
  branch = new FakeBranch(actions, language);
  mockIPC((cmd, args) => branch.handle(cmd, args as Record<string, unknown>));
  render(<App />);
}

const row = (id: string) => screen.getAllByTestId("device-row").find((r) => r.getAttribute("data-device") === id)!;

freshAppPerTest();

describe("devices screen", () => {
  it("lists the branch's workstations with last seen, lag and status, and revokes one after a confirm step with a reason", async () => {
    start(ADMIN);
    fireEvent.click(await screen.findByTestId("nav-devices"));
    await screen.findByTestId("devices-screen");
    await waitFor(() => expect(screen.getAllByTestId("device-row")).toHaveLength(4));
    expect(screen.queryByTestId("devices-offline")).toBeNull();

    const self = row(THIS);
    expect(self.getAttribute("data-this")).toBe("true");
    expect(within(self).getByTestId("device-this").textContent).toBe("(this workstation)");
    expect(within(self).getByTestId("device-id").textContent).toBe("aaaa0000");
    expect(within(self).getByTestId("device-lag").textContent).toBe("Up to date");
    expect(within(self).queryByTestId("device-revoke")).toBeNull(); // not itself

    const chair = row(CHAIR);
    expect(chair.textContent).toContain("Chair 2");
    expect(chair.textContent).toContain("Doctor's chair-side");
    expect(within(chair).getByTestId("device-lag").textContent).toBe("7 records behind");
    expect(within(chair).getByTestId("device-last-seen").textContent).toMatch(/2030/);
    expect(within(chair).getByTestId("device-status").textContent).toBe("Active");

    const till = row(TILL);
    expect(till.getAttribute("data-status")).toBe("revoked");
    expect(within(till).getByTestId("device-revoked-detail").textContent).toMatch(/2030.*by Adel Admin/);
    expect(within(till).getByTestId("device-revoked-reason").textContent).toBe("Broken screen");
    expect(within(till).queryByTestId("device-revoke")).toBeNull();

    const office = row(NEW);
    expect(within(office).getByTestId("device-server-only")).toBeTruthy();
    expect(within(office).getByTestId("device-last-seen").textContent).toBe("Never");
    expect(within(office).queryByTestId("device-revoke")).toBeNull(); // its enrolment is not here yet

    // Revoke the chair: a confirm step that asks for the reason.
    fireEvent.click(within(chair).getByTestId("device-revoke"));
    const form = await screen.findByTestId("device-revoke-form");
    expect(within(form).getByTestId("device-revoke-warning").textContent).toContain("Revoke Chair 2?");
    expect(branch.calls.some((c) => c.cmd === "revoke_device")).toBe(false);
    fireEvent.click(within(form).getByTestId("device-revoke-confirm"));
    // The form's own check: under the field, without asking the core.
    expect((await screen.findByTestId("device-revoke-error-reason")).textContent).toBe("This field is required.");
    expect(branch.calls.some((c) => c.cmd === "revoke_device")).toBe(false);
    fireEvent.change(within(form).getByTestId("device-revoke-reason"), { target: { value: "Stolen from surgery 2" } });
    fireEvent.click(within(form).getByTestId("device-revoke-confirm"));
    expect((await screen.findByTestId("devices-message")).textContent).toContain("Chair 2 was revoked");
    expect(branch.calls.filter((c) => c.cmd === "revoke_device").slice(-1)[0]?.args).toEqual({ deviceId: CHAIR, reason: "Stolen from surgery 2" });
    await waitFor(() => expect(row(CHAIR).getAttribute("data-status")).toBe("revoked"));
    expect(screen.queryByTestId("device-revoke-form")).toBeNull();
    // Not at the server yet: the row says so.
    expect(within(row(CHAIR)).getByTestId("device-revoke-pending")).toBeTruthy();
    expect(within(row(CHAIR)).getByTestId("device-revoked-reason").textContent).toBe("Stolen from surgery 2");
    // The message follows a switch to Arabic (it is kept as a text key, not as English text).
    fireEvent.click(screen.getByTestId("lang-ar"));
    await waitFor(() => expect(screen.getByTestId("devices-message").textContent).toContain("أُلغي اعتماد Chair 2"));
  });

  it("cancels a revocation without asking the core", async () => {
    start(ADMIN);
    fireEvent.click(await screen.findByTestId("nav-devices"));
    await waitFor(() => expect(screen.getAllByTestId("device-row")).toHaveLength(4));
    fireEvent.click(within(row(CHAIR)).getByTestId("device-revoke"));
    fireEvent.click(await screen.findByTestId("device-revoke-cancel"));
    expect(screen.queryByTestId("device-revoke-form")).toBeNull();
    expect(branch.calls.some((c) => c.cmd === "revoke_device")).toBe(false);
  });

  it("shows the local list with an offline notice when the branch server cannot be reached", async () => {
    branch = new FakeBranch(ADMIN);
    branch.online = false;
    mockIPC((cmd, args) => branch.handle(cmd, args as Record<string, unknown>));
    render(<App />);
    fireEvent.click(await screen.findByTestId("nav-devices"));
    const notice = await screen.findByTestId("devices-offline");
    expect(notice.getAttribute("data-reason")).toBe("sync_unavailable");
    expect(notice.textContent).toContain("cannot be reached");
    expect(screen.getByTestId("devices-table").getAttribute("data-live")).toBe("false");
    expect(screen.getAllByTestId("device-row")).toHaveLength(3);
    expect(within(row(CHAIR)).getByTestId("device-last-seen").textContent).toBe("—");
    expect(within(row(CHAIR)).getByTestId("device-lag").textContent).toBe("—");
    // The records still say who is revoked; revoking still works offline (it syncs later).
    expect(row(TILL).getAttribute("data-status")).toBe("revoked");
    expect(within(row(CHAIR)).getByTestId("device-revoke")).toBeTruthy();
  });

  it("offers no revocation to a manager, and reads in Arabic", async () => {
    start(MANAGER, "ar");
    fireEvent.click(await screen.findByTestId("nav-devices"));
    await waitFor(() => expect(screen.getAllByTestId("device-row")).toHaveLength(4));
    expect(document.documentElement.dir).toBe("rtl");
    expect(screen.getByTestId("nav-devices").textContent).toBe("الأجهزة");
    expect(screen.queryAllByTestId("device-revoke")).toHaveLength(0);
    expect(within(row(CHAIR)).getByTestId("device-status").textContent).toBe("فعّال");
    expect(within(row(TILL)).getByTestId("device-status").textContent).toContain("ملغى الاعتماد");
  });

  it("is not in the menu of a role without device_list", async () => {
    start(["patient_search", "patient_view"]);
    await screen.findByTestId("nav-patients");
    expect(screen.queryByTestId("nav-devices")).toBeNull();
  });
});

describe("device texts", () => {
  let tEn: TFunction;
  let tAr: TFunction;
  beforeAll(async () => {
    tEn = await translator("en");
    tAr = await translator("ar");
  });

  it("labels every kind of workstation in both languages", () => {
    for (const kind of DEVICE_KINDS) {
      expect(tEn(`devices.kinds.${kind}`), kind).not.toBe(`devices.kinds.${kind}`);
      expect(tAr(`devices.kinds.${kind}`), kind).not.toBe(`devices.kinds.${kind}`);
    }
  });

  it("explains the core's refusals of a revocation", () => {
    const self: CoreError = { code: "invalid", message: "x", details: { field: "device_id", reason: "cannot_revoke_self" } };
    expect(errorText(tEn, self, "en")).toBe("Device: A workstation cannot revoke itself. Revoke it from another workstation.");
    expect(errorText(tAr, self, "ar")).toContain(ar.reasons.cannot_revoke_self);
    const twice: CoreError = { code: "conflict", message: "x", details: { reason: "already_revoked", device_id: CHAIR } };
    expect(errorText(tEn, twice, "en")).toBe("This workstation has already been revoked.");
    expect(tEn("kinds.device_revoked")).toBe("Workstation revoked");
  });
});
