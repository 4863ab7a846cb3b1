import { useState, type FormEvent } from "react";
import { get, useForm, type DefaultValues, type FieldValues, type Path, type UseFormReturn } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { z } from "zod";
import type { CoreError, Result } from "./bindings";
import { fieldMessage, type FieldMessage, type Reason } from "./errors";
import { run } from "./query";

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

/** `YYYY-MM-DD` naming a real day (not, e.g., 2023-02-30). */
export function isIsoDate(raw: string): boolean {
  const v = raw.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === v;
}

/** A schema message that is an app text key rather than one of the core's reasons. */
export function textKey(key: string, vars: Record<string, string | number> = {}): string {
  return JSON.stringify({ key, vars: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)])) });
}

/**
 * The core's field rules the forms share (crates/core: accounts, text): each says what the
 * core's refusal would.
 */
export const NAME_MAX = 100;
export const MIN_PASSWORD_LEN = 8;
const PASSWORD_MAX = 256;

/** Trimmed text that must not be empty, at most `max` characters. */
export const requiredText = (max: number) =>
  z
    .string()
    .refine((v) => length(v) > 0, reason("required"))
    .refine((v) => length(v) <= max, reason("too_long", { max }));

/** A new password, checked as typed (not trimmed). */
export const newPassword = () =>
  z
    .string()
    .refine((v) => [...v].length >= MIN_PASSWORD_LEN, reason("password_too_short", { min: MIN_PASSWORD_LEN }))
    .refine((v) => [...v].length <= PASSWORD_MAX, reason("too_long", { max: PASSWORD_MAX }));

/** A password to check against the stored one: only that one was typed. */
export const enteredPassword = () => z.string().refine((v) => v.length > 0, reason("required"));

/** A username as the core accepts it (it folds the case itself). */
export const username = () => z.string().refine((v) => /^[a-z0-9._-]{3,32}$/.test(v.trim().toLowerCase()), reason("username_format"));

/** A form's field error as text in the user's language (it follows a language switch). */
export function useErrorText<V extends FieldValues>(form: UseFormReturn<V>): (name: Path<V>) => string | null {
  const { t } = useTranslation();
  const errors = form.formState.errors;
  return (name) => {
    const m = messageOf(get(errors, name) as { message?: string } | undefined);
    return m ? t(m.key, m.vars) : null;
  };
}

type CommandFormOptions<V extends FieldValues, T> = {
  schema: z.ZodType<V, V>;
  defaultValues: DefaultValues<V>;
  /** Sends the checked values. */
  send: (values: V) => Promise<Result<T, CoreError>>;
  onDone: (data: T, values: V) => void;
  /**
   * The form's fields a core refusal may name: a list, or the core's field names mapped onto
   * the form's. A refusal naming none of them is shown above the fields (`error`).
   */
  fields: readonly Path<V>[] | Readonly<Record<string, Path<V>>>;
  /** A refusal the form handles itself (return true), before it is put under a field. */
  onRefused?: (error: CoreError) => boolean;
};

/**
 * A form that sends one command: react-hook-form with the zod schema (re-checked as the user
 * types after the first submit), the command as a TanStack mutation, the core's field refusals
 * under their fields, any other refusal in `error`. `message(name)` is a field's error text in
 * the user's language (it follows a language switch).
 */
export function useCommandForm<V extends FieldValues, T>(o: CommandFormOptions<V, T>) {
  const form = useForm<V>({ defaultValues: o.defaultValues, resolver: zodResolver(o.schema), reValidateMode: "onChange" });
  const [error, setError] = useState<CoreError | null>(null);
  const fields: Readonly<Record<string, Path<V>>> = Array.isArray(o.fields)
    ? Object.fromEntries((o.fields as readonly Path<V>[]).map((f) => [f, f]))
    : (o.fields as Readonly<Record<string, Path<V>>>);
  const mutation = useMutation<T, CoreError, V>({
    mutationFn: (values) => run(() => o.send(values)),
    onSuccess: (data, values) => o.onDone(data, values),
    onError: (e) => {
      if (o.onRefused?.(e)) return;
      const fm = fieldMessage(e);
      const target = fm ? fields[fm.field] : undefined;
      if (fm && target) form.setError(target, { type: "core", message: JSON.stringify(fm.message) }, { shouldFocus: true });
      else setError(e);
    },
  });
  const submit = form.handleSubmit(
    async (values) => {
      setError(null);
      await mutation.mutateAsync(values).catch(() => undefined);
    },
    () => setError(null),
  );
  const message = useErrorText(form);
  return { form, error, setError, busy: mutation.isPending, message, onSubmit: (e: FormEvent) => void submit(e) };
}
