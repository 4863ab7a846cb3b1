// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Action, AppStatus, CoreError, Patient, PatientFile, PatientInput, SessionInfo, SyncStatus, UserSummary } from "./bindings";
import { applyLanguage } from "./i18n";
import { App } from "./App";

const ALL_ACTIONS: Action[] = [
  "user_list", "user_create", "user_reset_password", "user_deactivate", "user_reactivate", "patient_search",
  "patient_view", "patient_register", "patient_edit", "audit_view", "audit_verify", "settings_edit", "cashier_bind",
  "device_list", "device_revoke", "device_enrol",
];

const about = { app_version: "0.1.0", device_id: "dev-1", key_storage: "file" as const, key_fallback_reason: "no keyring", data_dir: "/tmp/d", record_count: 3 };

/** A tiny in-memory stand-in for the Rust core, enough to drive the screens. */
class FakeCore {
  setupDone = false;
  session: SessionInfo | null = null;
  locked = false;
  lockNext = false;
  patients: Patient[] = [];
  calls: { cmd: string; args: Record<string, unknown> }[] = [];
  terminals: string[] = [];
  users: UserSummary[] = [
    { id: "u7", username: "carl", display_name: "Carl Cashier", role: "cashier", language: "en", active: true, locked_until: null, created_at: "2025-01-01T10:00:00.000Z" },
  ];
  /** The file's edit conflict: open until resolved; a resolution refused with this error if set. */
  conflictResolved: "applied" | "dismissed" | null = null;
  resolveError: CoreError | null = null;
  /** Whether the file has history older than what it shows. */
  earlierHistory = false;
  sync: SyncStatus = {
    enrolled: false, server_url: null, branch_name: null, device_kind: null, device_label: null, online: false,
    syncing: false, last_sync_at: null, last_error: null, pending: 0, refused: 0, log_size: 0, applied_to: 0,
    clock_skew_seconds: null,
  };

  sessionFor(username: string, language: "en" | "ar", actions: Action[] = ALL_ACTIONS): SessionInfo {
    return { session_id: "s1", user_id: "u1", username, display_name: "Dr. Sara", role: "admin", language, allowed_actions: actions, idle_lock_minutes: 10 };
  }

  fileOf(p: Patient): PatientFile {
    const history: PatientFile["history"] = [
      { at: p.registered_at, by_user_id: "u1", by_name: "Dr. Sara", kind: "patient.registered", changes: [], resolved: null },
    ];
    const conflict = {
      record_id: "r9",
      field: "phone",
      expected: p.phone,
      proposed: "+966 511111111",
      kept: p.phone,
      device_id: "d2",
      by_user_id: "u2",
      at: p.registered_at,
      resolution: null,
    };
    if (this.conflictResolved) {
      const outcome = this.conflictResolved;
      history.push({ at: p.registered_at, by_user_id: "u1", by_name: "Dr. Sara", kind: "patient.conflict_resolved", changes: [], resolved: { patient_id: p.id, record_id: "r9", field: "phone", outcome } });
    }
    // An edit made offline at another desk that lost to one which reached the server first.
    return { patient: p, history, earlier_history: this.earlierHistory, conflicts: this.conflictResolved ? [] : [conflict] };
  }

  handle = (cmd: string, args: Record<string, unknown> = {}): unknown => {
    this.calls.push({ cmd, args });
    const fail = (code: CoreError["code"], details: Record<string, string> = {}): never => {
      throw { code, message: code, details } satisfies CoreError;
    };
    // sync_status needs no session (and never reports one locked).
    if (this.lockNext && !["app_status", "unlock", "logout", "sync_status"].includes(cmd)) {
      this.lockNext = false;
      this.locked = true;
      fail("session_locked");
    }
    switch (cmd) {
      case "app_status":
        return {
          setup_done: this.setupDone,
          branch: this.setupDone ? { id: "b1", code: "RYD01", name: "Riyadh Main" } : null,
          session: this.session,
          locked: this.locked,
          about,
        } satisfies AppStatus;
      case "setup_branch": {
        const input = args.input as { admin_password: string; admin_username: string; language: "en" | "ar" };
        if (input.admin_password.length < 8) fail("invalid", { field: "password", reason: "password_too_short", min: "8" });
        this.setupDone = true;
        this.session = this.sessionFor(input.admin_username, input.language);
        return this.session;
      }
      case "login":
        if (args.password === "locked") fail("account_locked", { until: "2031-05-06T07:08:00.000Z" });
        if (args.password !== "secret123") fail("bad_credentials");
        this.session = this.sessionFor(String(args.username), "en", ["patient_search", "patient_view", "patient_register"]);
        return this.session;
      case "unlock":
        if (args.password !== "secret123") fail("bad_credentials");
        this.locked = false;
        return this.session;
      case "logout":
        this.session = null;
        return null;
      case "heartbeat":
        return null;
      case "set_language":
        this.session = { ...this.session!, language: args.language as "en" | "ar" };
        return this.session;
      case "search_patients": {
        const q = String(args.query).toLowerCase();
        return this.patients.filter((p) => p.name_en.toLowerCase().includes(q) || p.file_number.toLowerCase().includes(q));
      }
      case "register_patient": {
        const input = args.input as PatientInput;
        if (!/^\+?[0-9 ]{7,}$/.test(input.phone)) fail("invalid", { field: "phone", reason: "phone_format" });
        const p: Patient = { ...input, id: `p${this.patients.length + 1}`, file_number: `DEV1-0000${this.patients.length + 1}`, registered_by: "u1", registered_at: "2025-01-01T10:00:00.000Z", updated_at: "2025-01-01T10:00:00.000Z" };
        this.patients.push(p);
        return p;
      }
      case "open_patient": {
        const p = this.patients.find((x) => x.id === args.patientId) ?? fail("not_found");
        return this.fileOf(p);
      }
      case "resolve_patient_conflict": {
        const p = this.patients.find((x) => x.id === args.patientId) ?? fail("not_found");
        if (this.resolveError) throw this.resolveError;
        if (args.recordId !== "r9" || args.field !== "phone") fail("not_found", { reason: "conflict_not_found" });
        this.conflictResolved = args.apply ? "applied" : "dismissed";
        if (args.apply) p.phone = "+966 511111111";
        return this.fileOf(p);
      }
      case "list_users":
        return this.users;
      case "create_user": {
        const u = args.input as { username: string; display_name: string; role: UserSummary["role"]; language: "en" | "ar" };
        if (this.users.some((x) => x.username === u.username)) {
          throw { code: "conflict", message: "taken", details: { field: "username", reason: "username_taken" } } satisfies CoreError;
        }
        const created: UserSummary = { id: `u${this.users.length + 10}`, username: u.username, display_name: u.display_name, role: u.role, language: u.language, active: true, locked_until: null, created_at: "2025-01-02T10:00:00.000Z" };
        this.users.push(created);
        return created;
      }
      case "branch_devices":
        return [
          { device_id: "aaaa1111bbbb2222cccc3333dddd4444", kind: "cashier_terminal", label: "Till 1" },
          { device_id: "eeee5555ffff6666aaaa7777bbbb8888", kind: "reception", label: "Front desk" },
        ];
      case "cashier_terminals":
        return this.terminals;
      case "set_cashier_terminals":
        this.terminals = args.deviceIds as string[];
        return this.terminals;
      case "about":
        return about;
      case "sync_status":
      case "sync_now":
        return this.sync;
      case "enrol_workstation": {
        const ticket = String(args.ticket);
        if (!ticket.startsWith("dentpro-enrol:")) fail("invalid", { field: "ticket", reason: "ticket_format" });
        if (ticket.includes("used")) fail("sync_rejected", { reason: "code_used" });
        this.sync = { ...this.sync, enrolled: true, server_url: "https://10.0.0.5:7443", branch_name: "Riyadh Main", device_kind: "doctor", device_label: String(args.label) };
        return this.sync;
      }
      default:
        return fail("internal", {});
    }
  };
}

let core: FakeCore;

beforeEach(() => {
  applyLanguage("en");
  core = new FakeCore();
  mockIPC((cmd, args) => core.handle(cmd, args as Record<string, unknown>));
});

afterEach(() => {
  cleanup();
  clearMocks();
});

const type = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

describe("DentPro UI", () => {
  it("runs first-run setup, then shows the signed-in shell and switches to Arabic (RTL)", async () => {
    render(<App />);
    await screen.findByTestId("setup-submit");
    type("setup-branch-name", "Riyadh Main");
    type("setup-branch-code", "RYD01");
    type("setup-admin-username", "sara");
    type("setup-admin-name", "Dr. Sara");
    type("setup-password", "short");
    type("setup-password-confirm", "different");
    fireEvent.click(screen.getByTestId("setup-submit"));
    expect(await screen.findByTestId("setup-error-password_confirm")).toHaveProperty("textContent", "The two passwords do not match.");
    expect(core.calls.some((c) => c.cmd === "setup_branch")).toBe(false);

    type("setup-password-confirm", "short");
    fireEvent.click(screen.getByTestId("setup-submit"));
    expect((await screen.findByTestId("setup-error-admin_password")).textContent).toBe("The password must have at least 8 characters.");

    type("setup-password", "secret123");
    type("setup-password-confirm", "secret123");
    fireEvent.click(screen.getByTestId("setup-submit"));
    expect((await screen.findByTestId("current-user")).textContent).toBe("Dr. Sara");
    expect(screen.getByTestId("branch-name").textContent).toBe("Riyadh Main");
    for (const nav of ["nav-patients", "nav-users", "nav-audit", "nav-settings", "nav-about"]) screen.getByTestId(nav);
    expect(document.documentElement.dir).toBe("ltr");

    fireEvent.click(screen.getByTestId("lang-ar"));
    await waitFor(() => expect(document.documentElement.dir).toBe("rtl"));
    expect(document.documentElement.lang).toBe("ar");
    expect(core.calls.find((c) => c.cmd === "set_language")?.args).toEqual({ language: "ar" });
    expect(screen.getByTestId("nav-patients").textContent).toBe("المرضى");
  });

  it("shows sign-in errors, including the lock end time", async () => {
    core.setupDone = true;
    render(<App />);
    await screen.findByTestId("login-submit");
    // Nothing typed: the form says so without asking the core.
    fireEvent.click(screen.getByTestId("login-submit"));
    expect((await screen.findByTestId("login-error-username")).textContent).toBe("This field is required.");
    expect(screen.getByTestId("login-error-password").textContent).toBe("This field is required.");
    expect(core.calls.some((c) => c.cmd === "login")).toBe(false);
    type("login-username", "sara");
    type("login-password", "nope");
    fireEvent.click(screen.getByTestId("login-submit"));
    expect((await screen.findByTestId("login-error")).textContent).toBe("Wrong username or password.");
    type("login-password", "locked");
    fireEvent.click(screen.getByTestId("login-submit"));
    await waitFor(() => expect(screen.getByTestId("login-error").textContent).toMatch(/locked.*2031/));
  });

  it("hides nav items the role may not use, registers a patient with field errors, opens the file", async () => {
    core.setupDone = true;
    render(<App />);
    await screen.findByTestId("login-submit");
    type("login-username", "reception");
    type("login-password", "secret123");
    fireEvent.click(screen.getByTestId("login-submit"));
    await screen.findByTestId("patient-search");
    expect(screen.queryByTestId("nav-users")).toBeNull();
    expect(screen.queryByTestId("nav-audit")).toBeNull();
    expect(screen.queryByTestId("nav-settings")).toBeNull();
    screen.getByTestId("nav-about");

    fireEvent.click(screen.getByTestId("register-patient"));
    type("pf-name_en", "Omar Khalid");
    type("pf-name_ar", "عمر خالد");
    type("pf-date_of_birth", "1990-04-12");
    type("pf-sex", "male");
    type("pf-phone", "abc");
    fireEvent.click(screen.getByTestId("pf-submit"));
    expect((await screen.findByTestId("pf-error-phone")).textContent).toBe("Enter a valid phone number (7 to 15 digits).");
    expect(screen.getByTestId("pf-name_ar").getAttribute("dir")).toBe("rtl");

    type("pf-phone", "+966 500000001");
    fireEvent.click(screen.getByTestId("pf-submit"));
    const file = await screen.findByTestId("patient-file");
    expect(within(file).getByTestId("patient-file-number").textContent).toBe("DEV1-00001");
    expect(within(file).getByTestId("patient-history").textContent).toContain("Registered the patient");
    const conflict = within(file).getByTestId("conflict-row");
    expect(conflict.getAttribute("data-field")).toBe("phone");
    expect(conflict.textContent).toContain("+966 511111111");
    expect(screen.queryByTestId("patient-edit")).toBeNull(); // no patient_edit for this role

    fireEvent.click(screen.getByTestId("patient-back"));
    type("patient-search", "omar");
    const row = await screen.findByTestId("patient-row");
    expect(row.getAttribute("data-file-number")).toBe("DEV1-00001");
  });

  it("creates a user: the form checks before asking the core, the core's refusal lands under its field, the list is read again", async () => {
    core.setupDone = true;
    core.session = core.sessionFor("admin", "en");
    render(<App />);
    fireEvent.click(await screen.findByTestId("nav-users"));
    await screen.findByTestId("user-row");
    const listReads = () => core.calls.filter((c) => c.cmd === "list_users").length;
    expect(listReads()).toBe(1);

    type("user-create-username", "x");
    type("user-create-name", "Huda Nurse");
    type("user-create-password", "short");
    fireEvent.click(screen.getByTestId("user-create-submit"));
    expect((await screen.findByTestId("user-create-error-username")).textContent).toBe(
      "Use 3 to 32 characters: letters, digits, dot, dash or underscore.",
    );
    expect(screen.getByTestId("user-create-error-password").textContent).toBe("The password must have at least 8 characters.");
    expect(core.calls.some((c) => c.cmd === "create_user")).toBe(false);

    // In Arabic, the same mistakes read in Arabic.
    applyLanguage("ar");
    expect((await screen.findByTestId("user-create-error-password")).textContent).toMatch(/[\u0600-\u06FF]/);
    applyLanguage("en");

    type("user-create-username", "carl");
    type("user-create-password", "long enough");
    await waitFor(() => expect(screen.queryByTestId("user-create-error-password")).toBeNull());
    fireEvent.click(screen.getByTestId("user-create-submit"));
    expect((await screen.findByTestId("user-create-error-username")).textContent).toBe("This username is already taken.");
    expect(listReads()).toBe(1);

    type("user-create-username", "huda");
    fireEvent.click(screen.getByTestId("user-create-submit"));
    expect((await screen.findByTestId("users-message")).textContent).toContain("huda");
    await waitFor(() => expect(screen.getAllByTestId("user-row").map((r) => r.getAttribute("data-username"))).toEqual(["carl", "huda"]));
    expect(listReads()).toBe(2);
    expect((screen.getByTestId("user-create-username") as HTMLInputElement).value).toBe("");
  });

  it("binds a cashier to cashier terminals only", async () => {
    core.setupDone = true;
    core.session = core.sessionFor("admin", "en");
    render(<App />);
    fireEvent.click(await screen.findByTestId("nav-users"));
    fireEvent.click(await screen.findByTestId("user-terminals"));
    const boxes = await screen.findAllByTestId("user-terminal");
    // Only the cashier terminal is offered, not the reception desk.
    expect(boxes.map((b) => b.getAttribute("data-device"))).toEqual(["aaaa1111bbbb2222cccc3333dddd4444"]);
    fireEvent.click(boxes[0]!);
    fireEvent.click(screen.getByTestId("user-terminals-submit"));
    expect((await screen.findByTestId("users-message")).textContent).toContain("Cashier terminals saved for carl");
    expect(core.terminals).toEqual(["aaaa1111bbbb2222cccc3333dddd4444"]);
  });

  it("shows the lock screen when a command reports session_locked, and unlocks", async () => {
    core.setupDone = true;
    core.session = core.sessionFor("sara", "en");
    render(<App />);
    await screen.findByTestId("patient-search");
    core.lockNext = true;
    fireEvent.click(screen.getByTestId("nav-about"));
    await screen.findByTestId("lock-screen");
    expect(screen.getByTestId("lock-user").textContent).toContain("Dr. Sara");
    type("lock-password", "wrong");
    fireEvent.click(screen.getByTestId("lock-submit"));
    expect((await screen.findByTestId("lock-error")).textContent).toBe("Wrong username or password.");
    type("lock-password", "secret123");
    fireEvent.click(screen.getByTestId("lock-submit"));
    await waitFor(() => expect(screen.queryByTestId("lock-screen")).toBeNull());
    expect(screen.queryByTestId("error-banner")).toBeNull();
  });

  it("joins an existing branch with a ticket, waits for the first sync, then shows the sync status at sign-in", async () => {
    render(<App />);
    await screen.findByTestId("setup-form");
    expect(screen.queryByTestId("sync-status")).toBeNull(); // not enrolled: no indicator
    fireEvent.click(screen.getByTestId("setup-mode-join"));
    type("join-ticket", "hello");
    type("join-label", "Chair 2");
    fireEvent.click(screen.getByTestId("join-submit"));
    expect((await screen.findByTestId("join-error-ticket")).textContent).toBe(
      "This is not an enrolment ticket. Copy the whole line starting with dentpro-enrol:",
    );
    type("join-ticket", "dentpro-enrol:used@10.0.0.5:7443#ab");
    fireEvent.click(screen.getByTestId("join-submit"));
    expect((await screen.findByTestId("join-error")).textContent).toMatch(/already used/);

    core.sync = { ...core.sync, log_size: 10, applied_to: 4, online: true, syncing: true };
    type("join-ticket", "dentpro-enrol:abc@10.0.0.5:7443#ab");
    fireEvent.click(screen.getByTestId("join-submit"));
    await screen.findByTestId("join-waiting");
    expect(core.calls.filter((c) => c.cmd === "enrol_workstation").slice(-1)[0]?.args).toEqual({ ticket: "dentpro-enrol:abc@10.0.0.5:7443#ab", label: "Chair 2" });
    const progress = await screen.findByTestId("sync-progress");
    expect(progress.textContent).toContain("4 / 10");

    // The first sync brings the branch: the sign-in screen appears, with the sync status.
    core.sync = {
      ...core.sync, applied_to: 10, syncing: false, pending: 3, refused: 2, clock_skew_seconds: 600,
      last_sync_at: new Date(2030, 0, 2, 9, 5).toISOString(),
    };
    core.setupDone = true;
    await screen.findByTestId("login-form", undefined, { timeout: 5000 });
    const pill = await screen.findByTestId("sync-status", undefined, { timeout: 5000 });
    await waitFor(() => expect(pill.getAttribute("data-pending")).toBe("3"), { timeout: 5000 });
    expect(pill.getAttribute("data-online")).toBe("true");
    expect(within(pill).getByTestId("sync-state").textContent).toBe("Online");
    expect(within(pill).getByTestId("sync-pending").textContent).toBe("3 pending");
    expect(within(pill).getByTestId("sync-last").textContent).toBe("Last sync 09:05");
    expect(within(pill).getByTestId("sync-clock-warning").textContent).toContain("10 min ahead");
    expect(within(pill).getByTestId("sync-refused").textContent).toBe("2 records refused by the server");
    expect(within(pill).queryByTestId("sync-progress")).toBeNull();
    expect(screen.getByTestId("login-branch").textContent).toContain("Riyadh Main");

    // Offline: the dot turns red and the reason is in the tooltip.
    core.sync = { ...core.sync, online: false, last_error: { code: "sync_unavailable", message: "x", details: {} } };
    fireEvent.click(within(pill).getByTestId("sync-now"));
    await waitFor(() => expect(screen.getByTestId("sync-status").getAttribute("data-online")).toBe("false"));
    expect(screen.getByTestId("sync-state").textContent).toBe("Offline");
    expect(screen.getByTestId("sync-status").getAttribute("title")).toContain("cannot be reached");
  }, 20_000);
});

describe("edit conflicts on the patient file", () => {
  const patient: Patient = {
    id: "p1", file_number: "DEV1-00001", name_en: "Omar Khalid", name_ar: "عمر خالد", date_of_birth: "1990-04-12", sex: "male",
    phone: "+966 500000001", national_id: null, address: "", emergency_contact: "", allergies: "", chronic_diseases: "",
    current_medications: "", medical_history: "", registered_by: "u1", registered_at: "2025-01-01T10:00:00.000Z",
    updated_at: "2025-01-01T10:00:00.000Z",
  };

  /** Signs in with `actions`, opens Omar's file and returns its conflicts card. */
  const openFile = async (actions: Action[], language: "en" | "ar" = "en") => {
    core.setupDone = true;
    core.patients = [{ ...patient }];
    core.session = core.sessionFor("sara", language, actions);
    render(<App />);
    await screen.findByTestId("patient-search");
    type("patient-search", "omar");
    fireEvent.click(await screen.findByTestId("patient-row"));
    return screen.findByTestId("patient-conflicts");
  };

  it("says, in the reader's language, when older history is left to the audit trail", async () => {
    await openFile(ALL_ACTIONS);
    expect(screen.queryByTestId("history-earlier")).toBeNull();
    cleanup();
    core.earlierHistory = true;
    await openFile(ALL_ACTIONS);
    expect(screen.getByTestId("history-earlier").textContent).toBe(
      "Showing the newest 1 entries. Earlier activity on this file is in the audit trail.",
    );
    cleanup();
    await openFile(ALL_ACTIONS, "ar");
    expect(screen.getByTestId("history-earlier").textContent).toBe(
      "تُعرض أحدث 1 من الإدخالات. النشاط الأقدم على هذا الملف في سجل التدقيق.",
    );
  });

  it("offers the decision only to roles that may edit the file", async () => {
    const card = await openFile(["patient_search", "patient_view", "patient_register"]);
    within(card).getByTestId("conflict-row");
    expect(within(card).queryByTestId("conflict-apply")).toBeNull();
    expect(within(card).queryByTestId("conflict-keep")).toBeNull();
    cleanup();
    const editable = await openFile(ALL_ACTIONS);
    within(editable).getByTestId("conflict-apply");
    within(editable).getByTestId("conflict-keep");
  });

  it("uses the other desk's value after a confirmation, then refreshes the file", async () => {
    const card = await openFile(ALL_ACTIONS);
    fireEvent.click(within(card).getByTestId("conflict-apply"));
    // Nothing is sent before the confirmation; cancelling goes back.
    expect(within(card).getByTestId("conflict-confirm-box").textContent).toContain("Replace");
    fireEvent.click(within(card).getByTestId("conflict-cancel"));
    expect(within(card).queryByTestId("conflict-confirm")).toBeNull();
    fireEvent.click(within(card).getByTestId("conflict-apply"));
    expect(within(card).getByTestId("conflict-confirm-box").textContent).toContain("+966 511111111");
    expect(core.calls.some((c) => c.cmd === "resolve_patient_conflict")).toBe(false);
    fireEvent.click(within(card).getByTestId("conflict-confirm"));
    await waitFor(() => expect(screen.queryByTestId("patient-conflicts")).toBeNull());
    expect(core.calls.filter((c) => c.cmd === "resolve_patient_conflict").map((c) => c.args)).toEqual([
      { patientId: "p1", recordId: "r9", field: "phone", apply: true },
    ]);
    expect(screen.getByTestId("patient-field-phone").textContent).toContain("+966 511111111");
    const row = screen.getAllByTestId("history-row").find((r) => r.getAttribute("data-kind") === "patient.conflict_resolved")!;
    expect(row.textContent).toContain("Resolved an edit conflict");
    expect(within(row).getByTestId("history-resolution").textContent).toBe("Phone: the value entered at the other desk was applied");
  });

  it("keeps the current value without a confirmation", async () => {
    const card = await openFile(ALL_ACTIONS);
    fireEvent.click(within(card).getByTestId("conflict-keep"));
    await waitFor(() => expect(screen.queryByTestId("patient-conflicts")).toBeNull());
    expect(core.calls.filter((c) => c.cmd === "resolve_patient_conflict").map((c) => c.args)).toEqual([
      { patientId: "p1", recordId: "r9", field: "phone", apply: false },
    ]);
    expect(screen.getByTestId("patient-field-phone").textContent).toContain("+966 500000001");
    expect(screen.getByTestId("history-resolution").getAttribute("data-outcome")).toBe("dismissed");
  });

  it("shows a refusal in the reader's language; a conflict decided elsewhere leaves the card", async () => {
    core.resolveError = { code: "storage", message: "x", details: {} };
    const card = await openFile(ALL_ACTIONS, "en");
    fireEvent.click(within(card).getByTestId("conflict-keep"));
    await screen.findByTestId("error-banner");
    // Any other refusal: the conflict is still there to decide.
    within(screen.getByTestId("patient-conflicts")).getByTestId("conflict-row");
    cleanup();
    core.resolveError = { code: "conflict", message: "x", details: { reason: "conflict_already_resolved" } };
    const decided = await openFile(ALL_ACTIONS, "ar");
    fireEvent.click(within(decided).getByTestId("conflict-keep"));
    expect((await screen.findByTestId("error-banner")).textContent).toContain("حسم شخص آخر تعارض التعديل هذا من قبل.");
    await waitFor(() => expect(screen.queryByTestId("patient-conflicts")).toBeNull());
    cleanup();
    core.resolveError = { code: "not_found", message: "x", details: { what: "conflict", reason: "conflict_not_found" } };
    const again = await openFile(ALL_ACTIONS, "en");
    fireEvent.click(within(again).getByTestId("conflict-apply"));
    fireEvent.click(within(again).getByTestId("conflict-confirm"));
    expect((await screen.findByTestId("error-banner")).textContent).toContain("This edit conflict is no longer on the file.");
    await waitFor(() => expect(screen.queryByTestId("patient-conflicts")).toBeNull());
  });
});
