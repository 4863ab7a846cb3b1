import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import {
  commands,
  type BranchDevice,
  type Language,
  type NewUser,
  type UserSummary,
} from "../../bindings";
import { call } from "../../api";
import { useApp } from "../../context";
import { ROLES } from "../../errors";
import { useCommandForm } from "../../forms";
import { useCommandQuery } from "../../query";
import { newUserSchema, resetPasswordSchema, terminalsSchema, userKeys, type ResetPasswordValues, type TerminalsValues } from "./schema";
import { deviceKeys } from "../devices/keys";
import { LanguageOptions } from "../../components/LanguageSwitch";
import { formatDateTime } from "../../format";
import { useLang } from "../../i18n/useLang";
import { EmptyRow, ErrorMessage, Field, InputField, Ltr, Notice, type NoticeText, SubmitButton, TableHead } from "../../components/common";

const USER_COLUMNS = [
  "users.username",
  "users.name",
  "users.role",
  "users.language",
  "users.status",
  "users.lockedUntil",
  "users.created",
  "common.actions",
] as const;

const CREATE_FIELDS: readonly (keyof NewUser)[] = ["username", "display_name", "role", "password", "language"];

export function UsersScreen() {
  const { t, lang } = useLang("users");
  const { can, showError, session } = useApp();
  const queryClient = useQueryClient();
  const list = useCommandQuery(userKeys.all, () => commands.listUsers());
  const users = list.data ?? null;
  // When the list was read: a lock that ended before then is shown as past.
  const loadedAt = list.dataUpdatedAt;
  const [notice, setNotice] = useState<NoticeText | null>(null);
  const [resetFor, setResetFor] = useState<string | null>(null);
  const [terminalsFor, setTerminalsFor] = useState<string | null>(null);

  /** After any change to an account: say so, and read the list again. */
  const done = (text: NoticeText) => {
    setNotice(text);
    showError(null);
    void queryClient.invalidateQueries({ queryKey: userKeys.all });
  };

  async function setActive(u: UserSummary, active: boolean) {
    setNotice(null);
    const r = await call(() => commands.setUserActive(u.id, active));
    if (r.status === "ok") done({ key: active ? "users.reactivated" : "users.deactivated", values: { username: u.username } });
    else showError(r.error);
  }

  return (
    <section className="page">
      <div className="page-head">
        <h1>{t("users.title")}</h1>
      </div>
      <Notice text={notice} testId="users-message" />
      <div className="card table-card">
        <table className="table" data-testid="users-table">
          <TableHead columns={USER_COLUMNS} />
          <tbody>
            {users && users.length === 0 ? (
              <EmptyRow columns={USER_COLUMNS} text={t("users.empty")} />
            ) : null}
            {(users ?? []).map((u) => (
              <UserRow
                key={u.id}
                user={u}
                isSelf={u.id === session.user_id}
                now={loadedAt}
                resetOpen={resetFor === u.id}
                onOpenReset={() => setResetFor(resetFor === u.id ? null : u.id)}
                onResetDone={() => {
                  setResetFor(null);
                  done({ key: "users.passwordReset", values: { username: u.username } });
                }}
                onSetActive={(a) => void setActive(u, a)}
                terminalsOpen={terminalsFor === u.id}
                onOpenTerminals={() => setTerminalsFor(terminalsFor === u.id ? null : u.id)}
                onTerminalsDone={() => {
                  setTerminalsFor(null);
                  done({ key: "users.terminalsSaved", values: { username: u.username } });
                }}
                lang={lang}
              />
            ))}
          </tbody>
        </table>
      </div>
      {can("user_create") ? <CreateUser onCreated={(u) => done({ key: "users.createdOk", values: { username: u.username } })} /> : null}
    </section>
  );
}

function UserRow({
  user: u,
  isSelf,
  now,
  resetOpen,
  onOpenReset,
  onResetDone,
  onSetActive,
  terminalsOpen,
  onOpenTerminals,
  onTerminalsDone,
  lang,
}: {
  user: UserSummary;
  isSelf: boolean;
  /** When the list was loaded: a lock that ended before then is shown as past. */
  now: number;
  resetOpen: boolean;
  onOpenReset: () => void;
  onResetDone: () => void;
  onSetActive: (active: boolean) => void;
  terminalsOpen: boolean;
  onOpenTerminals: () => void;
  onTerminalsDone: () => void;
  lang: Language;
}) {
  const { t } = useLang("users");
  const { can } = useApp();
  const lockedNow = u.locked_until !== null && new Date(u.locked_until).getTime() > now;
  return (
    <>
      <tr data-testid="user-row" data-username={u.username} data-active={u.active ? "true" : "false"}>
        <td>
          <Ltr>{u.username}</Ltr> {isSelf ? <span className="muted small">{t("users.you")}</span> : null}
        </td>
        <td>
          <bdi>{u.display_name}</bdi>
        </td>
        <td>{t(`roles.${u.role}`)}</td>
        <td>{t(`languages.${u.language}`)}</td>
        <td>
          <span className={u.active ? "pill pill-ok" : "pill pill-off"} data-testid="user-status">
            {u.active ? t("users.active") : t("users.inactive")}
          </span>
        </td>
        <td data-testid="user-locked-until" className={lockedNow ? "nowrap text-danger" : "nowrap"}>
          {u.locked_until ? formatDateTime(u.locked_until, lang) : t("users.notLocked")}
        </td>
        <td className="nowrap">{formatDateTime(u.created_at, lang)}</td>
        <td>
          <div className="row-actions">
            {can("user_reset_password") ? (
              <button type="button" className="btn btn-small" data-testid="user-reset" onClick={onOpenReset} aria-expanded={resetOpen}>
                {t("users.resetPassword")}
              </button>
            ) : null}
            {u.active && can("user_deactivate") ? (
              <button type="button" className="btn btn-small btn-danger" data-testid="user-deactivate" onClick={() => onSetActive(false)}>
                {t("users.deactivate")}
              </button>
            ) : null}
            {u.role === "cashier" && can("cashier_bind") ? (
              <button type="button" className="btn btn-small" data-testid="user-terminals" onClick={onOpenTerminals} aria-expanded={terminalsOpen}>
                {t("users.terminals")}
              </button>
            ) : null}
            {!u.active && can("user_reactivate") ? (
              <button type="button" className="btn btn-small" data-testid="user-reactivate" onClick={() => onSetActive(true)}>
                {t("users.reactivate")}
              </button>
            ) : null}
          </div>
        </td>
      </tr>
      {resetOpen ? (
        <tr className="inline-form-row" data-testid="user-reset-row" data-username={u.username}>
          <td colSpan={USER_COLUMNS.length}>
            <ResetPassword user={u} onDone={onResetDone} onCancel={onOpenReset} />
          </td>
        </tr>
      ) : null}
      {terminalsOpen ? (
        <tr className="inline-form-row" data-testid="user-terminals-row" data-username={u.username}>
          <td colSpan={USER_COLUMNS.length}>
            <CashierTerminals user={u} onDone={onTerminalsDone} onCancel={onOpenTerminals} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** The cashier terminals a cashier may work at (the branch server refuses their records elsewhere). */
function CashierTerminals({ user, onDone, onCancel }: { user: UserSummary; onDone: () => void; onCancel: () => void }) {
  const devices = useCommandQuery(deviceKeys.branch, () => commands.branchDevices());
  const bound = useCommandQuery(userKeys.terminals(user.id), () => commands.cashierTerminals(user.id));
  // A revoked terminal no longer syncs: a cashier bound to it could not work there.
  const terminals: BranchDevice[] | null = devices.data ? devices.data.filter((d) => d.kind === "cashier_terminal" && !d.revoked) : null;
  if (terminals === null || !bound.data) return null;
  // The ticked boxes start as the bound terminals.
  return <TerminalsForm user={user} terminals={terminals} bound={bound.data} onDone={onDone} onCancel={onCancel} />;
}

function TerminalsForm({
  user,
  terminals,
  bound,
  onDone,
  onCancel,
}: {
  user: UserSummary;
  terminals: BranchDevice[];
  bound: string[];
  onDone: () => void;
  onCancel: () => void;
}) {
  const { t } = useLang("users");
  const { showError } = useApp();
  const queryClient = useQueryClient();
  const { form, busy, onSubmit } = useCommandForm<TerminalsValues, string[]>({
    schema: terminalsSchema,
    defaultValues: { terminals: bound },
    send: (v) => commands.setCashierTerminals(user.id, v.terminals),
    onDone: (now) => {
      queryClient.setQueryData(userKeys.terminals(user.id), now);
      onDone();
    },
    fields: [],
    onRefused: (e) => {
      showError(e);
      return true;
    },
  });
  return (
    <form className="inline-form" onSubmit={onSubmit} data-testid="user-terminals-form">
      <p className="muted small">{t("users.terminalsHelp", { username: user.username })}</p>
      {terminals.length === 0 ? <p data-testid="user-terminals-none">{t("users.noTerminals")}</p> : null}
      {terminals.map((d) => (
        <label key={d.device_id} className="checkbox">
          <input type="checkbox" data-testid="user-terminal" data-device={d.device_id} value={d.device_id} {...form.register("terminals")} />{" "}
          <bdi>{d.label || t("users.unnamedTerminal")}</bdi> <span className="muted small"><Ltr>{d.device_id.slice(0, 8)}</Ltr></span>
        </label>
      ))}
      <div className="row-actions">
        <SubmitButton testId="user-terminals-submit" busy={busy} label={t("common.save")} className="btn btn-primary btn-small" />
        <button type="button" className="btn btn-small" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

function ResetPassword({ user, onDone, onCancel }: { user: UserSummary; onDone: () => void; onCancel: () => void }) {
  const { t } = useLang("users");
  const { form, error, busy, message, onSubmit } = useCommandForm<ResetPasswordValues, null>({
    schema: resetPasswordSchema,
    defaultValues: { password: "" },
    send: (v) => commands.resetPassword(user.id, v.password),
    onDone: () => onDone(),
    fields: ["password"],
  });

  return (
    <form className="inline-form" onSubmit={onSubmit} noValidate>
      <InputField
        id={`reset-${user.id}`}
        testId="user-reset-password"
        label={t("users.newPassword", { username: user.username })}
        error={message("password")}
        errorTestId="user-reset-error"
        type="password"
        autoComplete="new-password"
        autoFocus
        {...form.register("password")}
      />
      <ErrorMessage error={error} testId="user-reset-error" />
      <div className="form-actions">
        <SubmitButton testId="user-reset-submit" busy={busy} label={t("users.setPassword")} className="btn btn-primary btn-small" />
        <button type="button" className="btn btn-small" data-testid="user-reset-cancel" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

function CreateUser({ onCreated }: { onCreated: (u: UserSummary) => void }) {
  const { t, lang } = useLang("users");
  const empty: NewUser = { username: "", display_name: "", role: "receptionist", password: "", language: lang };
  const { form, error, busy, message, onSubmit } = useCommandForm<NewUser, UserSummary>({
    schema: newUserSchema,
    defaultValues: empty,
    send: (values) => commands.createUser(values),
    onDone: (created) => {
      form.reset(empty);
      onCreated(created);
    },
    fields: CREATE_FIELDS,
  });
  const { register } = form;

  return (
    <form className="card" onSubmit={onSubmit} noValidate data-testid="user-create-form">
      <h2>{t("users.createTitle")}</h2>
      <ErrorMessage error={error} testId="user-create-error" />
      <div className="form-grid">
        <InputField id="user-create-username" label={t("users.username")} error={message("username")} errorTestId="user-create-error-username" dir="ltr" maxLength={32} autoComplete="off" {...register("username")} />
        <InputField id="user-create-name" label={t("users.name")} error={message("display_name")} errorTestId="user-create-error-display_name" {...register("display_name")} />
        <Field id="user-create-role" label={t("users.role")} error={message("role")} errorTestId="user-create-error-role">
          <select id="user-create-role" data-testid="user-create-role" {...register("role")}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`roles.${r}`)}
              </option>
            ))}
          </select>
        </Field>
        <InputField id="user-create-password" label={t("users.password")} error={message("password")} errorTestId="user-create-error-password" type="password" autoComplete="new-password" {...register("password")} />
        <Field id="user-create-language" label={t("users.language")} error={message("language")} errorTestId="user-create-error-language">
          <select id="user-create-language" data-testid="user-create-language" {...register("language")}>
            <LanguageOptions />
          </select>
        </Field>
      </div>
      <div className="form-actions">
        <SubmitButton testId="user-create-submit" busy={busy} label={t("users.create")} />
      </div>
    </form>
  );
}
