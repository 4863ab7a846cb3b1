import type { TFunction } from "i18next";
import { CORE_LISTS, type Action, type CoreError, type DeviceKind, type ErrorCode, type Language, type Role } from "./bindings";
import { formatDateTime } from "./format";
import { RESOURCES } from "./i18n/resources";

// Records keyed by the generated union types: tsc fails here if the Rust side adds a variant.
const ERROR_CODE_SET: Record<ErrorCode, true> = {
  invalid: true,
  not_found: true,
  forbidden: true,
  not_logged_in: true,
  session_locked: true,
  bad_credentials: true,
  account_locked: true,
  account_inactive: true,
  already_set_up: true,
  not_set_up: true,
  device_mismatch: true,
  data_dir_in_use: true,
  data_dir_permission: true,
  disk_full: true,
  database_corrupt: true,
  account_tampered: true,
  key_storage: true,
  conflict: true,
  sync_rejected: true,
  sync_unavailable: true,
  storage: true,
  internal: true,
};
export const ERROR_CODES = Object.keys(ERROR_CODE_SET) as ErrorCode[];

/** Every action and every role, in the core's order: generated from `permissions.rs`. */
export const ACTIONS: readonly Action[] = CORE_LISTS.actions;
export const ROLES: readonly [Role, ...Role[]] = CORE_LISTS.roles;

const DEVICE_KIND_SET: Record<DeviceKind, true> = {
  reception: true,
  doctor: true,
  cashier_terminal: true,
  manager_desktop: true,
};
/** Every kind of workstation; each has a label `devices.kinds.<kind>`. */
export const DEVICE_KINDS = Object.keys(DEVICE_KIND_SET) as DeviceKind[];

/**
 * The `details.reason` keys the UI has a sentence for: every `reasons.*` key of the catalogs
 * (the shared one and each area's), so an area adds a reason by adding its texts. Every reason
 * of the core's `invalid` errors has one (a Rust test, `every_reason_the_core_sends_has_en_and_ar_text`);
 * a reason without one (some sync refusals) falls back to its error code's text.
 */
export const REASONS: readonly string[] = [
  ...new Set(Object.values(RESOURCES.en).flatMap((catalog) => (typeof catalog.reasons === "object" ? Object.keys(catalog.reasons) : []))),
];
export type Reason = string;

const ALL_REASONS = new Set(REASONS);

function isReason(s: string | undefined): s is Reason {
  return s !== undefined && ALL_REASONS.has(s);
}

function isErrorCode(s: string): s is ErrorCode {
  return (ERROR_CODES as string[]).includes(s);
}

/** Error details as a plain map (tolerates a missing or partial map). */
export function detailsOf(error: CoreError): Record<string, string> {
  const out: Record<string, string> = {};
  const d = (error.details ?? {}) as Record<string, string | undefined>;
  for (const [k, v] of Object.entries(d)) if (typeof v === "string") out[k] = v;
  return out;
}

/** The input field at fault, if the core named one. */
export function errorField(error: CoreError): string | undefined {
  return detailsOf(error).field;
}

export function fieldLabel(t: TFunction, field: string): string {
  return t(`fields.${field}`, { defaultValue: field });
}

function vars(error: CoreError, lang: Language): Record<string, string> {
  const d = detailsOf(error);
  return {
    ...d,
    until: d.until ? formatDateTime(d.until, lang) : "",
    message: error.message,
  };
}

/** The reason alone (for showing under the field at fault); null when there is no known reason. */
export function reasonText(t: TFunction, error: CoreError, lang: Language): string | null {
  const reason = detailsOf(error).reason;
  if (!isReason(reason)) return null;
  return t(`reasons.${reason}`, vars(error, lang));
}

/**
 * A complete, translated sentence for an error. With a known reason it is "<Field>: <reason>"
 * (or just the reason when `withField` is false); otherwise the translation of the error code,
 * and as a last resort the core's own message.
 */
export function errorText(t: TFunction, error: CoreError, lang: Language, withField = true): string {
  const reason = reasonText(t, error, lang);
  const field = errorField(error);
  if (reason !== null) {
    return withField && field ? t("errors.invalid_field", { field: fieldLabel(t, field), reason }) : reason;
  }
  if (isErrorCode(error.code)) return t(`errors.${error.code}`, vars(error, lang));
  return error.message || error.code;
}

/** A readable label for a record kind, falling back to the raw kind. */
export function kindLabel(t: TFunction, kind: string): string {
  return t(`kinds.${kind.replace(/\./g, "_")}`, { defaultValue: kind });
}

/** A message for one form field: a translation key and its values. */
export type FieldMessage = { key: string; vars: Record<string, string> };

/** When the core blamed a field with a known reason: which field, and what to show under it. */
export function fieldMessage(error: CoreError): { field: string; message: FieldMessage } | null {
  const d = detailsOf(error);
  if (!d.field || !isReason(d.reason)) return null;
  return { field: d.field, message: { key: `reasons.${d.reason}`, vars: d } };
}
