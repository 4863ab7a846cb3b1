import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, type Settings } from "../../bindings";
import { useCommandQuery } from "../../query";
import { settingsKeys } from "./keys";
import { useApp } from "../../context";
import { useCommandForm } from "../../forms";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field, Notice } from "../../components/common";
import { IDLE_LOCK_MAX, IDLE_LOCK_MIN, settingsSchema, type SettingsValues } from "./schema";

export function SettingsScreen() {
  const { t } = useLang("settings");
  const settings = useCommandQuery(settingsKeys.all, () => commands.getSettings());
  const [saved, setSaved] = useState(false);
  const stored = settings.data ?? null;
  return (
    <section className="page">
      <div className="page-head">
        <h1>{t("settings.title")}</h1>
      </div>
      <Notice text={saved ? { key: "settings.saved" } : null} testId="settings-saved" />
      {/* The form starts from the stored values: drawn afresh once they arrive. */}
      <SettingsForm key={stored ? "stored" : "loading"} stored={stored} onSaving={() => setSaved(false)} onSaved={() => setSaved(true)} />
    </section>
  );
}

function SettingsForm({ stored, onSaving, onSaved }: { stored: Settings | null; onSaving: () => void; onSaved: () => void }) {
  const { t } = useLang("settings");
  const { session, updateSession } = useApp();
  const queryClient = useQueryClient();
  const { form, error, busy, message, onSubmit } = useCommandForm<SettingsValues, Settings>({
    schema: settingsSchema,
    defaultValues: { idle_lock_minutes: stored ? String(stored.idle_lock_minutes) : "" },
    send: (v) => commands.setIdleLockMinutes(Number(v.idle_lock_minutes.trim())),
    onDone: (now) => {
      queryClient.setQueryData(settingsKeys.all, now);
      form.reset({ idle_lock_minutes: String(now.idle_lock_minutes) });
      updateSession({ ...session, idle_lock_minutes: now.idle_lock_minutes });
      onSaved();
    },
    fields: ["idle_lock_minutes"],
  });
  return (
    <form
      className="card narrow"
      onSubmit={(e) => {
        onSaving();
        onSubmit(e);
      }}
      noValidate
      data-testid="settings-form"
    >
      <h2>{t("settings.security")}</h2>
      <ErrorMessage error={error} testId="settings-error" />
      <Field
        id="settings-idle-lock"
        label={t("settings.idleLockMinutes")}
        hint={t("settings.idleLockHint")}
        error={message("idle_lock_minutes")}
        errorTestId="settings-error-idle_lock_minutes"
      >
        <input
          id="settings-idle-lock"
          data-testid="settings-idle-lock"
          type="number"
          inputMode="numeric"
          min={IDLE_LOCK_MIN}
          max={IDLE_LOCK_MAX}
          dir="ltr"
          disabled={stored === null}
          {...form.register("idle_lock_minutes")}
        />
      </Field>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" data-testid="settings-save" disabled={busy || stored === null}>
          {busy ? t("common.working") : t("common.save")}
        </button>
      </div>
    </form>
  );
}
