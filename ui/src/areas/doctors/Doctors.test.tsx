// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { Action, AppStatus, Chair, ChairInput, CoreError, DayHours, Doctor, DoctorDetail, Language, Leave, LeaveInput, SessionInfo } from "../../bindings";
import { applyLanguage } from "../../i18n";
import { visibleAreas } from "..";
import { App } from "../../App";

const MANAGER: Action[] = ["doctor_view", "doctor_edit", "chair_edit", "user_list"];
const RECEPTION: Action[] = ["doctor_view", "patient_search", "patient_register"];
const CASHIER: Action[] = ["patient_search"];

/** The doctors the core knows: a fake of the doctors commands, with the core's refusals. */
class FakeCore {
  calls: { cmd: string; args: Record<string, unknown> }[] = [];
  doctors: Doctor[] = [];
  weeks: Record<string, DayHours[]> = {};
  leave: Leave[] = [];
  /** The core's next answer to a command, whatever its input: a refusal the test chooses. */
  refuseNext: Record<string, CoreError> = {};
  chairs: Chair[] = [{ id: "c1", label_en: "Chair 1", label_ar: "كرسي ١", status: "active", added_at: "2030-01-01T08:00:00Z", updated_at: "2030-01-01T08:00:00Z" }];

  constructor(
    private actions: Action[],
    private language: Language = "en",
  ) {}

  session(): SessionInfo {
    return { session_id: "s1", user_id: "u1", username: "maha", display_name: "Maha Manager", role: "manager", language: this.language, allowed_actions: this.actions, idle_lock_minutes: 10 };
  }

  handle = (cmd: string, args: Record<string, unknown> = {}): unknown => {
    this.calls.push({ cmd, args });
    const fail = (code: CoreError["code"], details: Record<string, string> = {}): never => {
      throw { code, message: code, details } satisfies CoreError;
    };
    const detail = (id: string): DoctorDetail => ({
      doctor: this.doctors.find((d) => d.id === id) ?? fail("not_found"),
      week: this.weeks[id] ?? [],
      leave: this.leave.filter((l) => l.doctor_id === id),
    });
    const refusal = this.refuseNext[cmd];
    if (refusal) {
      delete this.refuseNext[cmd];
      throw refusal;
    }
    switch (cmd) {
      case "app_status":
        return {
          setup_done: true,
          branch: { id: "b1", code: "RYD01", name: "Riyadh Main" },
          session: this.session(),
          locked: false,
          about: { app_version: "0.1.0", device_id: "aa", key_storage: "keyring", key_fallback_reason: null, data_dir: "/tmp/d", record_count: 3 },
        } satisfies AppStatus;
      case "sync_status":
        return { enrolled: false, server_url: null, branch_name: null, device_kind: null, device_label: null, online: false, syncing: false, last_sync_at: null, last_error: null, pending: 0, refused: 0, log_size: 0, applied_to: 0, clock_skew_seconds: null };
      case "heartbeat":
        return null;
      case "set_language":
        this.language = args.language as Language;
        return this.session();
      case "search_patients":
        return [];
      case "list_doctors":
        return this.doctors;
      case "list_chairs":
        return this.chairs;
      case "doctor_candidates":
        return [{ user_id: "u7", username: "dr.lina", display_name: "Lina Haddad" }];
      case "register_doctor": {
        const input = args.input as Doctor;
        if (input.licence.trim().toUpperCase() === "TAKEN-1") fail("conflict", { field: "licence", reason: "licence_taken" });
        const d: Doctor = { ...input, id: "d1", username: "dr.lina", licence: input.licence.trim().toUpperCase(), status: "active", registered_at: "2030-01-02T08:00:00Z", updated_at: "2030-01-02T08:00:00Z" };
        this.doctors.push(d);
        return d;
      }
      case "doctor_detail":
        return detail(String(args.doctorId));
      case "set_doctor_hours":
        this.weeks[String(args.doctorId)] = args.week as DayHours[];
        return args.week;
      case "add_doctor_leave": {
        const input = args.input as LeaveInput;
        // The core's bound on a holiday's length (the form does not check it).
        if (input.span.type === "holiday" && (Date.parse(input.span.to) - Date.parse(input.span.from)) / 86_400_000 >= 366)
          fail("invalid", { field: "to", reason: "out_of_range", min: "1", max: "366" });
        const l: Leave = { id: `l${this.leave.length + 1}`, doctor_id: String(args.doctorId), span: input.span, note: input.note, added_at: "2030-01-02T08:00:00Z", added_by: "u1", cancelled_at: null, cancelled_by: null };
        this.leave.push(l);
        return l;
      }
      case "add_chair": {
        const input = args.input as ChairInput;
        const c: Chair = { ...input, id: `c${this.chairs.length + 1}`, status: "active", added_at: "2030-01-02T08:00:00Z", updated_at: "2030-01-02T08:00:00Z" };
        this.chairs.push(c);
        return c;
      }
      case "doctor_availability":
        return { doctor_id: args.doctorId, date: args.date, weekday: "monday", intervals: [], leave: [] };
      default:
        return fail("internal");
    }
  };
}

let core: FakeCore;

function start(actions: Action[], language: Language = "en") {
  core = new FakeCore(actions, language);
  mockIPC((cmd, args) => core.handle(cmd, args as Record<string, unknown>));
  render(<App />);
}

const type = (testId: string, value: string) => fireEvent.change(screen.getByTestId(testId), { target: { value } });

beforeEach(() => applyLanguage("en"));

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("doctors area", () => {
  it("is in the nav of every role that books or treats, not the cashier's", () => {
    expect(visibleAreas(MANAGER).map((a) => a.id)).toContain("doctors");
    expect(visibleAreas(RECEPTION).map((a) => a.id)).toContain("doctors");
    expect(visibleAreas(CASHIER).map((a) => a.id)).not.toContain("doctors");
  });

  it("a manager registers a doctor (the core's refusal under its field), sets the week and adds leave", async () => {
    start(MANAGER);
    fireEvent.click(await screen.findByTestId("nav-doctors"));
    await screen.findByTestId("doctors-table");
    await waitFor(() => expect(screen.getAllByTestId("chair-row")).toHaveLength(1));
    fireEvent.click(screen.getByTestId("doctor-new"));
    await screen.findByTestId("doctor-form");
    // The schema speaks first, without asking the core.
    fireEvent.click(screen.getByTestId("df-submit"));
    expect((await screen.findByTestId("df-error-user_id")).textContent).toBe("This field is required.");
    expect(core.calls.some((c) => c.cmd === "register_doctor")).toBe(false);
    await waitFor(() => expect(screen.getByTestId("df-user_id").querySelectorAll("option")).toHaveLength(2));
    type("df-user_id", "u7");
    type("df-name_en", "Lina Haddad");
    type("df-name_ar", "لينا حداد");
    type("df-specialty", "orthodontics");
    type("df-licence", "taken-1");
    fireEvent.click(screen.getByTestId("df-submit"));
    await waitFor(() => expect(screen.getByTestId("df-error-licence").textContent).toBe("Another doctor of the branch has this licence number."));
    expect(core.calls.filter((c) => c.cmd === "register_doctor")).toHaveLength(1);
    type("df-licence", "jmc-1234");
    fireEvent.click(screen.getByTestId("df-submit"));
    expect((await screen.findByTestId("doctor-message")).textContent).toBe("Dr Lina Haddad registered.");
    expect(core.calls.filter((c) => c.cmd === "register_doctor").slice(-1)[0]?.args).toEqual({
      input: { user_id: "u7", name_en: "Lina Haddad", name_ar: "لينا حداد", specialty: "orthodontics", licence: "jmc-1234" },
    });

    // The week: two overlapping intervals on Monday are refused under Monday, unsent.
    const monday = () => screen.getAllByTestId("week-day").find((r) => r.getAttribute("data-day") === "monday")!;
    fireEvent.click(within(monday()).getByTestId("week-add"));
    fireEvent.click(within(monday()).getByTestId("week-add"));
    fireEvent.click(screen.getByTestId("week-save"));
    expect((await within(monday()).findByTestId("week-problem")).textContent).toBe("Intervals must be in order and must not overlap.");
    expect(core.calls.some((c) => c.cmd === "set_doctor_hours")).toBe(false);
    const ends = within(monday()).getAllByTestId("week-end");
    const starts = within(monday()).getAllByTestId("week-start");
    fireEvent.change(starts[1]!, { target: { value: "14:00" } });
    fireEvent.change(ends[1]!, { target: { value: "18:00" } });
    fireEvent.click(screen.getByTestId("week-save"));
    expect((await screen.findByTestId("doctor-message")).textContent).toBe("Working hours saved.");
    expect(core.calls.find((c) => c.cmd === "set_doctor_hours")?.args).toEqual({
      doctorId: "d1",
      week: [{ day: "monday", intervals: [{ start: "09:00", end: "13:00" }, { start: "14:00", end: "18:00" }] }],
    });

    // A holiday, backwards first.
    type("lf-type", "holiday");
    type("lf-from", "2030-03-12");
    type("lf-to", "2030-03-10");
    fireEvent.click(screen.getByTestId("lf-submit"));
    await waitFor(() => expect(screen.getByTestId("lf-error-to").textContent).toBe("The last day must not be before the first."));
    type("lf-to", "2030-03-17");
    fireEvent.click(screen.getByTestId("lf-submit"));
    await waitFor(() => expect(screen.getAllByTestId("leave-row")).toHaveLength(1));
    expect(screen.getByTestId("leave-row").textContent).toContain("2030-03-12 to 2030-03-17");
  });

  it("lists doctors in Arabic, right to left, with the specialty translated; reception only reads", async () => {
    start(RECEPTION, "ar");
    core.doctors.push({ id: "d1", user_id: "u7", username: "dr.lina", name_en: "Lina Haddad", name_ar: "لينا حداد", specialty: "pediatric_dentistry", licence: "JMC-1", status: "active", registered_at: "2030-01-02T08:00:00Z", updated_at: "2030-01-02T08:00:00Z" });
    applyLanguage("ar");
    fireEvent.click(await screen.findByTestId("nav-doctors"));
    const row = await screen.findByTestId("doctor-row");
    expect(document.documentElement.dir).toBe("rtl");
    expect(screen.getByTestId("nav-doctors").textContent).toBe("الأطباء والكراسي");
    expect(row.textContent).toContain("طب أسنان الأطفال");
    expect(row.textContent).toContain("لينا حداد");
    expect(screen.queryByTestId("doctor-new")).toBeNull();
    expect(screen.queryByTestId("chair-add-form")).toBeNull();
    fireEvent.click(within(row).getByTestId("doctor-open"));
    await screen.findByTestId("doctor-page");
    expect(screen.queryByTestId("doctor-form")).toBeNull();
    expect(screen.queryByTestId("week-save")).toBeNull();
    expect(screen.queryByTestId("leave-form")).toBeNull();
  });

  it("the chair and leave forms put the core's refusal under the field it names, any other above the form", async () => {
    start(MANAGER);
    core.doctors.push({ id: "d1", user_id: "u7", username: "dr.lina", name_en: "Lina Haddad", name_ar: "لينا حداد", specialty: "orthodontics", licence: "JMC-1", status: "active", registered_at: "2030-01-02T08:00:00Z", updated_at: "2030-01-02T08:00:00Z" });
    fireEvent.click(await screen.findByTestId("nav-doctors"));
    await waitFor(() => expect(screen.getAllByTestId("chair-row")).toHaveLength(1));

    // A chair: a refusal naming no field of the form is shown above it, the input kept.
    core.refuseNext.add_chair = { code: "forbidden", message: "forbidden", details: {} };
    type("chair-add-label_en", "Chair 2");
    type("chair-add-label_ar", "كرسي ٢");
    fireEvent.click(screen.getByTestId("chair-add-submit"));
    expect((await screen.findByTestId("chair-add-error")).textContent).toBe("You do not have permission to do this.");
    expect(screen.queryByTestId("chair-add-error-label_en")).toBeNull();
    expect((screen.getByTestId("chair-add-label_en") as HTMLInputElement).value).toBe("Chair 2");
    // One naming a field is shown under it (and the message above goes).
    core.refuseNext.add_chair = { code: "invalid", message: "invalid", details: { field: "label_ar", reason: "too_long", max: "100" } };
    fireEvent.click(screen.getByTestId("chair-add-submit"));
    await waitFor(() => expect(screen.getByTestId("chair-add-error-label_ar").textContent).toBe("Too long: at most 100 characters."));
    expect(screen.queryByTestId("chair-add-error")).toBeNull();
    // Then saved: the form is empty again and the chair listed.
    fireEvent.click(screen.getByTestId("chair-add-submit"));
    await waitFor(() => expect(screen.getAllByTestId("chair-row")).toHaveLength(2));
    expect((screen.getByTestId("chair-add-label_en") as HTMLInputElement).value).toBe("");

    // Leave: a holiday longer than the core allows is refused under its last day.
    fireEvent.click(screen.getByTestId("doctor-open"));
    await screen.findByTestId("leave-form");
    type("lf-type", "holiday");
    type("lf-from", "2030-01-01");
    type("lf-to", "2031-06-30");
    fireEvent.click(screen.getByTestId("lf-submit"));
    await waitFor(() => expect(screen.getByTestId("lf-error-to").textContent).toBe("Enter a value between 1 and 366."));
    expect(screen.queryByTestId("leave-row")).toBeNull();
    expect(screen.queryByTestId("lf-error")).toBeNull();
  });
});
