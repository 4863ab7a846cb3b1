// @vitest-environment jsdom
import { describe, expect, it, vi } from "vitest";
import { fireEvent, screen } from "@testing-library/react";
import type { Action } from "../bindings";
import { applyLanguage } from "../i18n";
import { freshAppPerTest, startSignedIn } from "../test/signedIn";

// The users area's chunk, as a damaged install gives it: `import()` rejects, until repaired.
const chunk = vi.hoisted(() => ({ broken: true }));
vi.mock("../areas/users/Users", async (importOriginal) => {
  if (chunk.broken) throw new TypeError("Importing a module script failed.");
  return importOriginal();
});

const ACTIONS: Action[] = ["patient_search", "user_list"];

freshAppPerTest();

describe("an area that does not load", () => {
  // In this order: once a chunk loads it stays loaded for the rest of the file.
  it("is said in English, with a way to sign out", async () => {
    chunk.broken = true;
    const app = startSignedIn(ACTIONS, { logout: () => null });
    expect((await screen.findByTestId("area-load-error")).textContent).toContain(
      "The “Users” screens could not be loaded from the installed app. Try again; if this keeps happening, reinstall DentPro.",
    );
    fireEvent.click(screen.getByTestId("logout"));
    await screen.findByTestId("login-form");
    expect(app.count("logout")).toBe(1);
  });

  it("is said in the user's language (Arabic) with a retry, instead of a blank window; a retry after a repair draws the shell", async () => {
    chunk.broken = true;
    applyLanguage("ar");
    startSignedIn(ACTIONS, { search_patients: () => [], list_users: () => [] }, "ar");
    const error = await screen.findByTestId("area-load-error");
    expect(document.documentElement.dir).toBe("rtl");
    expect(screen.getByRole("heading").textContent).toBe("تعذّر تحميل جزء من DentPro.");
    expect(error.textContent).toContain("تعذّر تحميل شاشات «المستخدمون» من التطبيق المثبّت.");
    expect(screen.getByTestId("area-load-detail").textContent).toMatch(/^area users did not load: /);
    expect(screen.getByTestId("area-load-retry").textContent).toBe("إعادة المحاولة");
    expect(screen.queryByTestId("nav-patients")).toBeNull();

    // Still broken: the retry says so again.
    fireEvent.click(screen.getByTestId("area-load-retry"));
    expect(await screen.findByTestId("area-load-error")).toBeTruthy();

    // Repaired: the retry draws the shell.
    chunk.broken = false;
    fireEvent.click(screen.getByTestId("area-load-retry"));
    fireEvent.click(await screen.findByTestId("nav-users"));
    await screen.findByTestId("users-table");
    expect(screen.queryByTestId("area-load-error")).toBeNull();
  });
});
