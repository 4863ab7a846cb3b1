import { useState } from "react";
import { commands, type SessionInfo } from "../../bindings";
import { useCommandForm } from "../../forms";
import { setupSchema, type SetupValues } from "./schema";
import { applyLanguage } from "../../i18n";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field } from "../../components/common";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { SyncIndicator } from "../../components/SyncIndicator";
import { JoinBranch } from "./JoinBranch";

/** The core validates the admin as an ordinary new user; map its field names onto this form. */
const CORE_FIELD: Record<string, keyof SetupValues> = {
  branch_name: "branch_name",
  branch_code: "branch_code",
  username: "admin_username",
  admin_username: "admin_username",
  display_name: "admin_display_name",
  admin_display_name: "admin_display_name",
  password: "admin_password",
  admin_password: "admin_password",
};

/**
 * First start: either set up a new branch here (this desk creates it and its first admin), or
 * join an existing branch with an enrolment ticket (the branch and its staff then come from the
 * branch server).
 */
export function Setup({ onDone, onJoined }: { onDone: (session: SessionInfo) => void; onJoined: () => void }) {
  const { t, lang } = useLang("session");
  const [mode, setMode] = useState<"new" | "join">("new");
  return (
    <div className="auth-page">
      <div className="auth-top">
        <SyncIndicator />
        <LanguageSwitch value={lang} onChange={applyLanguage} />
      </div>
      <div className="auth-card-wide setup-choice" role="tablist" aria-label={t("join.choiceLabel")}>
        <button
          type="button"
          role="tab"
          aria-selected={mode === "new"}
          className={mode === "new" ? "choice active" : "choice"}
          data-testid="setup-mode-new"
          onClick={() => setMode("new")}
        >
          {t("join.choiceNew")}
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === "join"}
          className={mode === "join" ? "choice active" : "choice"}
          data-testid="setup-mode-join"
          onClick={() => setMode("join")}
        >
          {t("join.choiceJoin")}
        </button>
      </div>
      {mode === "new" ? <NewBranch onDone={onDone} /> : <JoinBranch onJoined={onJoined} />}
    </div>
  );
}

function NewBranch({ onDone }: { onDone: (session: SessionInfo) => void }) {
  const { t, lang } = useLang("session");
  const { form, error, busy, message, onSubmit } = useCommandForm<SetupValues, SessionInfo>({
    schema: setupSchema,
    defaultValues: { branch_name: "", branch_code: "", admin_username: "", admin_display_name: "", admin_password: "", password_confirm: "" },
    // The preferred language is the interface language (the top switch and the select agree).
    send: ({ password_confirm: _, ...input }) => commands.setupBranch({ ...input, language: lang }),
    onDone: (session) => onDone(session),
    fields: CORE_FIELD,
  });
  const { register } = form;

  return (
    <form className="card auth-card auth-card-wide" onSubmit={onSubmit} noValidate data-testid="setup-form">
        <div className="brand-large">{t("app.name")}</div>
        <h1>{t("setup.title")}</h1>
        <p className="muted">{t("setup.intro")}</p>
        <ErrorMessage error={error} testId="error-banner" />
        <fieldset>
          <legend>{t("setup.branchSection")}</legend>
          <div className="form-grid">
            <Field id="setup-branch-name" label={t("setup.branchName")} error={message("branch_name")} errorTestId="setup-error-branch_name">
              <input id="setup-branch-name" data-testid="setup-branch-name" {...register("branch_name")} autoFocus />
            </Field>
            <Field id="setup-branch-code" label={t("setup.branchCode")} hint={t("setup.branchCodeHint")} error={message("branch_code")} errorTestId="setup-error-branch_code">
              <input id="setup-branch-code" data-testid="setup-branch-code" dir="ltr" {...register("branch_code")} />
            </Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>{t("setup.adminSection")}</legend>
          <div className="form-grid">
            <Field id="setup-admin-username" label={t("setup.adminUsername")} error={message("admin_username")} errorTestId="setup-error-admin_username">
              <input id="setup-admin-username" data-testid="setup-admin-username" dir="ltr" autoComplete="username" {...register("admin_username")} />
            </Field>
            <Field id="setup-admin-name" label={t("setup.adminName")} error={message("admin_display_name")} errorTestId="setup-error-admin_display_name">
              <input id="setup-admin-name" data-testid="setup-admin-name" {...register("admin_display_name")} />
            </Field>
            <Field id="setup-password" label={t("setup.password")} error={message("admin_password")} errorTestId="setup-error-admin_password">
              <input id="setup-password" data-testid="setup-password" type="password" autoComplete="new-password" {...register("admin_password")} />
            </Field>
            <Field id="setup-password-confirm" label={t("setup.passwordConfirm")} error={message("password_confirm")} errorTestId="setup-error-password_confirm">
              <input id="setup-password-confirm" data-testid="setup-password-confirm" type="password" autoComplete="new-password" {...register("password_confirm")} />
            </Field>
            <Field id="setup-language" label={t("setup.language")}>
              <select id="setup-language" data-testid="setup-language" value={lang} onChange={(e) => applyLanguage(e.target.value === "ar" ? "ar" : "en")}>
                <option value="en">{t("languages.en")}</option>
                <option value="ar">{t("languages.ar")}</option>
              </select>
            </Field>
          </div>
        </fieldset>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid="setup-submit" disabled={busy}>
            {busy ? t("common.working") : t("setup.submit")}
          </button>
        </div>
    </form>
  );
}
