// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import type { Settings } from "../../bindings";
import { applyLanguage } from "../../i18n";
import { freshAppPerTest, refuse, startSignedIn } from "../../test/signedIn";

function settingsCore() {
  let stored: Settings = { idle_lock_minutes: 10 };
  return {
    get_settings: () => stored,
    set_idle_lock_minutes: (args: Record<string, unknown>) => {
      const minutes = Number(args.minutes);
      if (minutes < 1 || minutes > 240) refuse("invalid", { field: "idle_lock_minutes", reason: "out_of_range", min: "1", max: "240" });
      return (stored = { idle_lock_minutes: minutes });
    },
  };
}

const field = () => screen.getByTestId<HTMLInputElement>("settings-idle-lock");

freshAppPerTest();

describe("settings screen", () => {
  it("shows the stored idle limit and saves a new one", async () => {
    const core = startSignedIn(["settings_edit"], settingsCore());
    await waitFor(() => expect(field().value).toBe("10"));
    fireEvent.change(field(), { target: { value: "25" } });
    fireEvent.click(screen.getByTestId("settings-save"));
    await screen.findByTestId("settings-saved");
    expect(core.calls.filter((c) => c.cmd === "set_idle_lock_minutes").map((c) => c.args.minutes)).toEqual([25]);
    expect(field().value).toBe("25");
    expect(core.count("get_settings")).toBe(1);
  });

  it("refuses a value out of range under the field, in the user's language, without asking the core", async () => {
    const core = startSignedIn(["settings_edit"], settingsCore(), "ar");
    applyLanguage("ar");
    await waitFor(() => expect(field().value).toBe("10"));
    fireEvent.change(field(), { target: { value: "0" } });
    fireEvent.click(screen.getByTestId("settings-save"));
    const error = await screen.findByTestId("settings-error-idle_lock_minutes");
    expect(error.textContent).toMatch(/[\u0600-\u06FF]/);
    expect(error.textContent).toContain("240");
    expect(core.count("set_idle_lock_minutes")).toBe(0);
    // Corrected: the message goes as the user types.
    fireEvent.change(field(), { target: { value: "5" } });
    await waitFor(() => expect(screen.queryByTestId("settings-error-idle_lock_minutes")).toBeNull());
  });
});
