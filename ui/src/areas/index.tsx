import type { RouteObject } from "react-router";
import type { Action } from "../bindings";
import { patientRoutes } from "./patients/routes";
import { doctorRoutes } from "./doctors/routes";
import { UsersScreen } from "./users/Users";
import { DevicesScreen } from "./devices/Devices";
import { AuditScreen } from "./audit/Audit";
import { SettingsScreen } from "./settings/Settings";
import { AboutScreen } from "./about/About";

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
  { id: "doctors", needs: "doctor_view", route: doctorRoutes },
  { id: "users", needs: "user_list", route: { element: <UsersScreen /> } },
  { id: "devices", needs: "device_list", route: { element: <DevicesScreen /> } },
  { id: "audit", needs: "audit_view", route: { element: <AuditScreen /> } },
  { id: "settings", needs: "settings_edit", route: { element: <SettingsScreen /> } },
  { id: "about", needs: null, route: { element: <AboutScreen /> } },
];

/** The areas a session with `allowed` actions may open, in nav order. */
export function visibleAreas(allowed: readonly Action[]): Area[] {
  return AREAS.filter((a) => a.needs === null || allowed.includes(a.needs));
}
