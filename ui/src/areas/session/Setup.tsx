import { useState } from "react";
import { commands, type SessionInfo } from "../../bindings";
import { useCommandForm } from "../../forms";
import { setupSchema, type SetupValues } from "./schema";
import { applyLanguage } from "../../i18n";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field, InputField, SubmitButton } from "../../components/common";
import { AuthTop, LanguageOptions } from "../../components/LanguageSwitch";
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

/** The first-run choices, with their labels. */
const MODES = [
  ["new", "join.choiceNew"],
  ["join", "join.choiceJoin"],
] as const;

/**
 * First start: either set up a new branch here (this desk creates it and its first admin), or
 * join an existing branch with an enrolment ticket (the branch and its staff then come from the
 * branch server).
 */
export function Setup({ onDone, onJoined }: { onDone: (session: SessionInfo) => void; onJoined: () => void }) {
  const { t } = useLang("session");
  const [mode, setMode] = useState<(typeof MODES)[number][0]>("new");
  return (
    <div className="auth-page">
      <AuthTop />
      <div className="auth-card-wide setup-choice" role="tablist" aria-label={t("join.choiceLabel")}>
        {MODES.map(([m, label]) => (
          <button
            key={m}
            type="button"
            role="tab"
            aria-selected={mode === m}
            className={mode === m ? "choice active" : "choice"}
            data-testid={`setup-mode-${m}`}
            onClick={() => setMode(m)}
          >
            {t(label)}
          </button>
        ))}
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
            <InputField id="setup-branch-name" label={t("setup.branchName")} error={message("branch_name")} errorTestId="setup-error-branch_name" autoFocus {...register("branch_name")} />
            <InputField id="setup-branch-code" label={t("setup.branchCode")} hint={t("setup.branchCodeHint")} error={message("branch_code")} errorTestId="setup-error-branch_code" dir="ltr" {...register("branch_code")} />
          </div>
        </fieldset>
        <fieldset>
          <legend>{t("setup.adminSection")}</legend>
          <div className="form-grid">
            <InputField id="setup-admin-username" label={t("setup.adminUsername")} error={message("admin_username")} errorTestId="setup-error-admin_username" dir="ltr" autoComplete="username" {...register("admin_username")} />
            <InputField id="setup-admin-name" label={t("setup.adminName")} error={message("admin_display_name")} errorTestId="setup-error-admin_display_name" {...register("admin_display_name")} />
            <InputField id="setup-password" label={t("setup.password")} error={message("admin_password")} errorTestId="setup-error-admin_password" type="password" autoComplete="new-password" {...register("admin_password")} />
            <InputField id="setup-password-confirm" label={t("setup.passwordConfirm")} error={message("password_confirm")} errorTestId="setup-error-password_confirm" type="password" autoComplete="new-password" {...register("password_confirm")} />
            <Field id="setup-language" label={t("setup.language")}>
              <select id="setup-language" data-testid="setup-language" value={lang} onChange={(e) => applyLanguage(e.target.value === "ar" ? "ar" : "en")}>
                <LanguageOptions />
              </select>
            </Field>
          </div>
        </fieldset>
        <div className="form-actions">
          <SubmitButton testId="setup-submit" busy={busy} label={t("setup.submit")} />
        </div>
    </form>
  );
}
