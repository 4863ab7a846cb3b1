import { CORE_LISTS, type VerifyReason } from "./bindings";

/** Keys left out of the one-line summary: identifiers (shown elsewhere) and anything secret. */
function hidden(key: string): boolean {
  return key === "id" || key.endsWith("_id") || key.includes("password") || key.includes("secret");
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v === "" ? "\u201C\u201D" : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function isChange(v: unknown): v is { field: string; from: unknown; to: unknown } {
  return typeof v === "object" && v !== null && "field" in v && "from" in v && "to" in v;
}

/**
 * A short human-readable line for a record's payload (JSON text): "key: value; …", with
 * field changes as "field: from → to". Falls back to the raw text if it is not JSON. `label`
 * may give a value its words (an access refusal's action).
 */
export function summarizePayload(payload: string, maxLength = 240, label?: (key: string, value: string) => string | undefined): string {
  let data: unknown;
  try {
    data = JSON.parse(payload);
  } catch {
    return payload.length > maxLength ? `${payload.slice(0, maxLength - 1)}…` : payload;
  }
  const parts: string[] = [];
  if (data && typeof data === "object" && !Array.isArray(data)) {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (hidden(k)) continue;
      if (Array.isArray(v) && v.every(isChange)) {
        for (const c of v) parts.push(`${c.field}: ${scalar(c.from)} → ${scalar(c.to)}`);
      } else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
        // A whole nested form (a registration's fields, with medical details) stays in the
        // patient's file: the trail says that it happened, not what the file says.
        continue;
      } else {
        parts.push(`${k}: ${(typeof v === "string" && label?.(k, v)) || scalar(v)}`);
      }
    }
  } else if (data !== null && data !== undefined) {
    parts.push(scalar(data));
  }
  const text = parts.join("; ");
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}

/**
 * Every record kind the core writes (the audit filter offers these and their prefixes): generated
 * from the Rust registry (`dentpro_core::registry::KINDS`) into bindings.ts, never kept by hand.
 */
export const KNOWN_KINDS: readonly string[] = CORE_LISTS.known_kinds;

/**
 * The audit filter's groups, in the order it offers them: a group is a kind prefix (`doctor`
 * holds `doctor.*`, filtered by the core as `doctor.`). Every kind is in exactly one group
 * (auditFormat.test.ts), so a new area's kinds cannot be left out.
 */
export const KIND_GROUPS = ["patient", "doctor", "chair", "user", "auth", "access", "settings", "audit", "branch", "device", "cashier"] as const;

/**
 * Every reason the core's verification gives (BadRecord.reason). A Record over the generated
 * `VerifyReason` type, so the compiler refuses a reason missing here or one the core dropped.
 */
const VERIFY_REASON_SET: Record<VerifyReason, true> = {
  malformed: true,
  seq_gap: true,
  bad_genesis: true,
  chain_broken: true,
  record_edited: true,
  record_forged: true,
  device_absent: true,
  anchor_missing: true,
  anchor_unreadable: true,
  anchor_not_signed: true,
  records_missing: true,
  head_differs: true,
};

export const VERIFY_REASONS = Object.keys(VERIFY_REASON_SET) as VerifyReason[];
