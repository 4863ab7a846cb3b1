import type { CoreError, ErrorCode, Result } from "./bindings";

/** Called when any command reports that the session is locked or gone. */
type SessionProblemListener = (error: CoreError) => void;

let sessionProblemListener: SessionProblemListener | null = null;

export function setSessionProblemListener(listener: SessionProblemListener | null): void {
  sessionProblemListener = listener;
}

const SESSION_PROBLEMS: readonly ErrorCode[] = ["session_locked", "not_logged_in"];

/** Brings whatever crossed the IPC boundary (or was thrown) into the CoreError shape. */
export function toCoreError(raw: unknown): CoreError {
  if (raw && typeof raw === "object" && "code" in raw && typeof (raw as { code: unknown }).code === "string") {
    const r = raw as { code: string; message?: unknown; details?: unknown };
    const details: Record<string, string> = {};
    if (r.details && typeof r.details === "object") {
      for (const [k, v] of Object.entries(r.details as Record<string, unknown>)) {
        if (v !== undefined && v !== null) details[k] = String(v);
      }
    }
    return { code: r.code as ErrorCode, message: typeof r.message === "string" ? r.message : "", details };
  }
  const message = raw instanceof Error ? raw.message : typeof raw === "string" ? raw : JSON.stringify(raw);
  return { code: "internal", message, details: {} };
}

/**
 * Runs one Tauri command. Never throws: thrown errors (e.g. outside the desktop shell) become
 * `internal` errors. A locked or missing session is also reported to the session listener, so
 * the lock / sign-in screen appears whatever screen made the call.
 */
export async function call<T>(command: () => Promise<Result<T, CoreError>>): Promise<Result<T, CoreError>> {
  let result: Result<T, CoreError>;
  try {
    result = await command();
  } catch (e) {
    result = { status: "error", error: toCoreError(e) };
  }
  if (result.status === "error") {
    const error = toCoreError(result.error);
    if (SESSION_PROBLEMS.includes(error.code)) sessionProblemListener?.(error);
    return { status: "error", error };
  }
  return result;
}

export function isSessionProblem(error: CoreError): boolean {
  return SESSION_PROBLEMS.includes(error.code);
}
