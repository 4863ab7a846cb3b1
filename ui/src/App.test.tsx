// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Action, AppStatus, CoreError, Patient, PatientInput, SessionInfo } from "./bindings";
import { applyLanguage } from "./i18n";
import { App } from "./App";

const ALL_ACTIONS: Action[] = [
  "user_list", "user_create", "user_reset_password", "user_deactivate", "user_reactivate", "patient_search",
  "patient_view", "patient_register", "patient_edit", "audit_view", "audit_verify", "settings_edit",
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

  sessionFor(username: string, language: "en" | "ar", actions: Action[] = ALL_ACTIONS): SessionInfo {
    return { session_id: "s1", user_id: "u1", username, display_name: "Dr. Sara", role: "admin", language, allowed_actions: actions, idle_lock_minutes: 10 };
  }

  handle = (cmd: string, args: Record<string, unknown> = {}): unknown => {
    this.calls.push({ cmd, args });
    const fail = (code: CoreError["code"], details: Record<string, string> = {}): never => {
      throw { code, message: code, details } satisfies CoreError;
    };
    if (this.lockNext && cmd !== "app_status" && cmd !== "unlock" && cmd !== "logout") {
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
        return { patient: p, history: [{ at: p.registered_at, by_user_id: "u1", by_name: "Dr. Sara", kind: "patient.registered", changes: [] }] };
      }
      case "about":
        return about;
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
    expect(screen.queryByTestId("patient-edit")).toBeNull(); // no patient_edit for this role

    fireEvent.click(screen.getByTestId("patient-back"));
    type("patient-search", "omar");
    const row = await screen.findByTestId("patient-row");
    expect(row.getAttribute("data-file-number")).toBe("DEV1-00001");
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
});
