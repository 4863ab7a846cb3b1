import type { InputHTMLAttributes, ReactNode, Ref } from "react";
import { useTranslation } from "react-i18next";
import type { CoreError } from "../bindings";
import { errorText } from "../errors";
import { useLang } from "../i18n/useLang";

/** Text that must always read left-to-right (numbers, codes, phones, dates), even in Arabic. */
export function Ltr({ children }: { children: ReactNode }) {
  return <bdi dir="ltr">{children}</bdi>;
}

type FieldProps = {
  id: string;
  label: string;
  error?: string | null;
  errorTestId?: string;
  hint?: string;
  optional?: boolean;
  wide?: boolean;
  children: ReactNode;
};

/** A labelled form row with an optional hint and a red error line under the control. */
export function Field({ id, label, error, errorTestId, hint, optional, wide, children }: FieldProps) {
  const { t } = useTranslation();
  return (
    <div className={`field${wide ? " field-wide" : ""}${error ? " has-error" : ""}`}>
      <label htmlFor={id}>
        {label}
        {optional ? <span className="optional"> ({t("common.optional")})</span> : null}
      </label>
      {children}
      {hint ? <div className="hint">{hint}</div> : null}
      {error ? (
        <div className="field-error" role="alert" data-testid={errorTestId} id={`${id}-error`}>
          {error}
        </div>
      ) : null}
    </div>
  );
}

type InputFieldProps = Omit<FieldProps, "children"> & {
  /** The input's test id when it is not its id. */
  testId?: string;
  ref?: Ref<HTMLInputElement>;
} & Omit<InputHTMLAttributes<HTMLInputElement>, "id">;

/** A labelled `<input>` (`register(...)` spreads into it); its id is also its test id. */
export function InputField({ id, label, error, errorTestId, hint, optional, wide, testId, ...input }: InputFieldProps) {
  return (
    <Field id={id} label={label} error={error} errorTestId={errorTestId} hint={hint} optional={optional} wide={wide}>
      <input id={id} data-testid={testId ?? id} aria-invalid={error ? true : undefined} {...input} />
    </Field>
  );
}

/** A form's submit button: "Working…" and disabled while the command runs. */
export function SubmitButton({
  testId,
  busy,
  label,
  busyLabel,
  className = "btn btn-primary",
}: {
  testId: string;
  busy: boolean;
  label: string;
  busyLabel?: string;
  className?: string;
}) {
  const { t } = useTranslation();
  return (
    <button type="submit" className={className} data-testid={testId} disabled={busy}>
      {busy ? (busyLabel ?? t("common.working")) : label}
    </button>
  );
}

/** A translated error message block; renders nothing without an error. */
export function ErrorMessage({ error, testId }: { error: CoreError | null; testId: string }) {
  const { t, lang } = useLang();
  if (!error) return null;
  return (
    <div className="message message-error" role="alert" data-testid={testId} data-code={error.code}>
      {errorText(t, error, lang)}
    </div>
  );
}

/**
 * The whole window when the app cannot go on: what failed, in the user's language, and a retry
 * (`children`: other ways out, e.g. signing out).
 */
export function FailedPage({ title, message, testId, onRetry, retryTestId, children }: {
  title: string;
  message: ReactNode;
  testId: string;
  onRetry: () => void;
  retryTestId: string;
  children?: ReactNode;
}) {
  const { t } = useLang();
  return (
    <div className="center-page">
      <div className="card auth-card">
        <h1>{title}</h1>
        <div className="message message-error" role="alert" data-testid={testId}>
          {message}
        </div>
        <button type="button" className="btn btn-primary" data-testid={retryTestId} onClick={onRetry}>
          {t("app.retry")}
        </button>
        {children}
      </div>
    </div>
  );
}

/**
 * A success message kept as its text key and values, not as text: it is translated when shown,
 * so it follows a language switch. A value may itself be a text key (e.g. a device kind).
 */
export type NoticeText = { key: string; values?: Record<string, string | number | NoticeText> };

export function Notice({ text, testId }: { text: NoticeText | null; testId: string }) {
  const { t } = useTranslation();
  if (!text) return null;
  const render = (n: NoticeText): string =>
    t(n.key, Object.fromEntries(Object.entries(n.values ?? {}).map(([k, v]) => [k, typeof v === "object" ? render(v) : v])));
  return (
    <div className="message message-success" role="status" data-testid={testId}>
      {render(text)}
    </div>
  );
}

/** A table's header row, from the columns' text keys (their count is the table's width). */
export function TableHead({ columns }: { columns: readonly string[] }) {
  const { t } = useTranslation();
  return (
    <thead>
      <tr>
        {columns.map((key) => (
          <th key={key}>{t(key)}</th>
        ))}
      </tr>
    </thead>
  );
}

/** The one row of an empty table, across all its columns. */
export function EmptyRow({ columns, text, testId }: { columns: readonly string[]; text: string; testId?: string }) {
  return (
    <tr>
      <td colSpan={columns.length} className="muted" data-testid={testId}>
        {text}
      </td>
    </tr>
  );
}
