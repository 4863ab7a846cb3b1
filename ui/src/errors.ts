import type { TFunction } from "i18next";
import type { Action, CoreError, DeviceKind, ErrorCode, Language, Role } from "./bindings";
import { formatDateTime } from "./format";

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

const ROLE_SET: Record<Role, true> = {
  admin: true,
  manager: true,
  receptionist: true,
  assistant: true,
  doctor: true,
  cashier: true,
};
export const ROLES = Object.keys(ROLE_SET) as Role[];

const DEVICE_KIND_SET: Record<DeviceKind, true> = {
  reception: true,
  doctor: true,
  cashier_terminal: true,
  manager_desktop: true,
};
/** Every kind of workstation; each has a label `devices.kinds.<kind>`. */
export const DEVICE_KINDS = Object.keys(DEVICE_KIND_SET) as DeviceKind[];

const ACTION_SET: Record<Action, true> = {
  user_list: true,
  user_create: true,
  user_reset_password: true,
  user_deactivate: true,
  user_reactivate: true,
  patient_search: true,
  patient_view: true,
  patient_register: true,
  patient_edit: true,
  audit_view: true,
  audit_verify: true,
  settings_edit: true,
  cashier_bind: true,
  device_list: true,
  device_revoke: true,
  device_enrol: true,
  doctor_view: true,
  doctor_edit: true,
  chair_edit: true,
};
export const ACTIONS = Object.keys(ACTION_SET) as Action[];

/** The stable `details.reason` keys the core sends with `invalid` (and some `conflict`) errors. */
export const REASONS = [
  "required",
  "too_long",
  "username_format",
  "password_too_short",
  "username_taken",
  "code_format",
  "invalid_date",
  "date_in_future",
  "date_too_old",
  "invalid_sex",
  "phone_format",
  "national_id_format",
  "name_required",
  "cannot_deactivate_self",
  "last_admin",
  "out_of_range",
  "ticket_format",
  "terminal_not_bound",
  "unknown_device",
  "cannot_revoke_self",
  "already_revoked",
  "conflict_not_found",
  "conflict_already_resolved",
  // The doctors area's (texts in areas/doctors/i18n).
  "licence_format",
  "licence_taken",
  "profile_exists",
  "not_a_doctor",
  "user_inactive",
  "unknown_user",
  "doctor_retired",
  "time_format",
  "interval_order",
  "intervals_overlap",
  "too_many_intervals",
  "duplicate_day",
  "date_order",
  "already_cancelled",
  "not_trimmed",
  "not_normalised",
] as const;

/**
 * The `details.reason` keys of `sync_rejected` / `sync_unavailable` errors worth a sentence of
 * their own: the workstation's checks of the server (certificate, log), and the server's
 * refusals (enrolment codes, devices, clocks). Others fall back to the error code's text.
 */
export const SYNC_REASONS = [
  "certificate_mismatch",
  "log_truncated",
  "log_rewritten",
  "bad_checkpoint",
  "bad_receipt",
  "malformed_answer",
  "push_stalled",
  "record_too_large",
  "answer_too_large",
  "not_included",
  "device_revoked",
  "not_enrolled",
  "foreign_key",
  "unknown_code",
  "code_used",
  "code_expired",
  "already_enrolled",
  "station_taken",
  "other_branch",
  "fork",
  "proof_too_old",
  "proof_not_yet_valid",
] as const;
export type Reason = (typeof REASONS)[number] | (typeof SYNC_REASONS)[number];

const ALL_REASONS: readonly string[] = [...REASONS, ...SYNC_REASONS];

function isReason(s: string | undefined): s is Reason {
  return s !== undefined && ALL_REASONS.includes(s);
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
