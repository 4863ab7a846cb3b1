import type { ComponentType } from "react";
import type { RouteObject } from "react-router";
import type { Action } from "../bindings";
import { patientRoutes } from "./patients/routes";
import { doctorRoutes } from "./doctors/routes";

type AreaRoute = Omit<RouteObject, "path" | "index">;

/**
 * A one-page area in a chunk of its own (no chunk of the bundle is large). It is loaded at
 * sign-in when the session may open it (`loadAreas`), so a nav click still draws the page at
 * once. Patients, the start page of most roles, is in the main chunk.
 */
const page = (load: () => Promise<ComponentType>) => async (): Promise<AreaRoute> => ({ Component: await load() });

/**
 * One business area of the signed-in app. Its `id` is its folder (`areas/<id>/`), its texts'
 * i18next namespace (`areas/<id>/i18n/<lang>.json`), its route (`/<id>`), its nav label
 * (`nav.<id>`) and its nav button's test id (`nav-<id>`).
 */
export type Area = {
  id: string;
  /** The action a session needs to see the area; null: every signed-in user. */
  needs: Action | null;
  /** The area's start page and, for areas with several pages, its child routes; or its loader. */
  route: AreaRoute | (() => Promise<AreaRoute>);
};

/** An area with its route loaded. */
export type LoadedArea = Area & { route: AreaRoute };

/** The areas in nav order: the shell shows those the session's allowed actions permit. */
export const AREAS: readonly Area[] = [
  { id: "patients", needs: "patient_search", route: patientRoutes },
  { id: "doctors", needs: "doctor_view", route: doctorRoutes },
  { id: "users", needs: "user_list", route: page(() => import("./users/Users").then((m) => m.UsersScreen)) },
  { id: "devices", needs: "device_list", route: page(() => import("./devices/Devices").then((m) => m.DevicesScreen)) },
  { id: "audit", needs: "audit_view", route: page(() => import("./audit/Audit").then((m) => m.AuditScreen)) },
  { id: "settings", needs: "settings_edit", route: page(() => import("./settings/Settings").then((m) => m.SettingsScreen)) },
  { id: "about", needs: null, route: page(() => import("./about/About").then((m) => m.AboutScreen)) },
];

/** The areas a session with `allowed` actions may open, in nav order. */
export function visibleAreas(allowed: readonly Action[]): Area[] {
  return AREAS.filter((a) => a.needs === null || allowed.includes(a.needs));
}

/** An area whose chunk did not load (a damaged or half-updated install, a full disk). */
export class AreaLoadError extends Error {
  readonly area: string;
  constructor(area: string, cause: unknown) {
    super(`area ${area} did not load: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "AreaLoadError";
    this.area = area;
  }
}

/** The areas a session may open, their chunks loaded; rejects with the first that failed. */
export function loadAreas(allowed: readonly Action[]): Promise<LoadedArea[]> {
  return Promise.all(
    visibleAreas(allowed).map(async (a) => {
      if (typeof a.route !== "function") return { ...a, route: a.route };
      try {
        return { ...a, route: await a.route() };
      } catch (e) {
        throw new AreaLoadError(a.id, e);
      }
    }),
  );
}
