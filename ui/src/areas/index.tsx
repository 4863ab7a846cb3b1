import type { ComponentType } from "react";
import type { RouteObject } from "react-router";
import type { Action } from "../bindings";
import { patientRoutes } from "./patients/routes";

/**
 * An area's page loaded when first opened (its own chunk of the bundle, so no chunk is large).
 * Patients, the start page of most roles, is in the main chunk.
 */
const page = (load: () => Promise<ComponentType>) => ({ lazy: async () => ({ Component: await load() }) });

/**
 * One business area of the signed-in app. Its `id` is its folder (`areas/<id>/`), its texts'
 * i18next namespace (`areas/<id>/i18n/<lang>.json`), its route (`/<id>`), its nav label
 * (`nav.<id>`) and its nav button's test id (`nav-<id>`).
 */
export type Area = {
  id: string;
  /** The action a session needs to see the area; null: every signed-in user. */
  needs: Action | null;
  /** The area's start page and, for areas with several pages, its child routes. */
  route: Omit<RouteObject, "path" | "index">;
};

/** The areas in nav order: the shell shows those the session's allowed actions permit. */
export const AREAS: readonly Area[] = [
  { id: "patients", needs: "patient_search", route: patientRoutes },
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
