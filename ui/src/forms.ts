import type { FieldValues, Path, UseFormSetError } from "react-hook-form";
import type { CoreError } from "./bindings";
import { fieldMessage, type FieldMessage, type Reason } from "./errors";

/**
 * Form validation (react-hook-form + zod) speaks the core's language: a schema's message is a
 * `reasons.<reason>` text key with its values, the same text the core's refusal would show
 * under the field, so a message reads the same whichever side found the mistake and follows a
 * language switch. The core still checks everything: its field refusals land on the same fields.
 */
export function reason(r: Reason, vars: Record<string, string | number> = {}): string {
  return JSON.stringify({ key: `reasons.${r}`, vars: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)])) });
}

/** The text key and values of a field's error (from a schema, or from the core's refusal). */
export function messageOf(error: { message?: string } | undefined): FieldMessage | null {
  if (!error?.message) return null;
  try {
    const m = JSON.parse(error.message) as FieldMessage;
    return typeof m.key === "string" ? { key: m.key, vars: m.vars ?? {} } : null;
  } catch {
    return null;
  }
}

/** `[...s].length` of the trimmed text: characters as the core counts them (code points). */
export function length(s: string): number {
  return [...s.trim()].length;
}

/**
 * Puts the core's refusal under the field it names when the form has that field (and focuses
 * it); returns false when the error belongs to the form as a whole.
 */
export function showOnField<T extends FieldValues>(error: CoreError, fields: readonly string[], setError: UseFormSetError<T>): boolean {
  const fm = fieldMessage(error);
  if (!fm || !fields.includes(fm.field)) return false;
  setError(fm.field as Path<T>, { type: "core", message: JSON.stringify(fm.message) }, { shouldFocus: true });
  return true;
}
