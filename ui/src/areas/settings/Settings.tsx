import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type CoreError, type Settings } from "../../bindings";
import { run, useCommandQuery } from "../../query";
import { settingsKeys } from "./keys";
import { useApp } from "../../context";
import { fieldMessage } from "../../errors";
import { useLang } from "../../i18n/useLang";
import { ErrorMessage, Field, Notice } from "../../components/common";

export function SettingsScreen() {
  const { t } = useLang("settings");
  const { session, updateSession } = useApp();
  const queryClient = useQueryClient();
  const settings = useCommandQuery(settingsKeys.all, () => commands.getSettings());
  // What the user typed; until then, the stored value.
  const [typed, setMinutes] = useState<string | null>(null);
  const minutes = typed ?? (settings.data ? String(settings.data.idle_lock_minutes) : null);
  const [error, setError] = useState<CoreError | null>(null);
  const [saved, setSaved] = useState(false);
  const save = useMutation<Settings, CoreError, number>({
    mutationFn: (n) => run(() => commands.setIdleLockMinutes(n)),
    onSuccess: (stored) => {
      queryClient.setQueryData(settingsKeys.all, stored);
      setMinutes(null);
      updateSession({ ...session, idle_lock_minutes: stored.idle_lock_minutes });
      setSaved(true);
    },
    onError: setError,
  });
  const busy = save.isPending;

  function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    setError(null);
    const n = Number(minutes);
    if (!Number.isInteger(n) || n < 0) {
      setError({ code: "invalid", message: "", details: { field: "idle_lock_minutes", reason: "out_of_range", min: "1", max: "240" } });
      return;
    }
    save.mutate(n);
  }

  const fm = error ? fieldMessage(error) : null;
  return (
    <section className="page">
      <div className="page-head">
        <h1>{t("settings.title")}</h1>
      </div>
      <Notice text={saved ? { key: "settings.saved" } : null} testId="settings-saved" />
      <form className="card narrow" onSubmit={submit} noValidate data-testid="settings-form">
        <h2>{t("settings.security")}</h2>
        {error && !fm ? <ErrorMessage error={error} testId="settings-error" /> : null}
        <Field
          id="settings-idle-lock"
          label={t("settings.idleLockMinutes")}
          hint={t("settings.idleLockHint")}
          error={fm ? t(fm.message.key, fm.message.vars) : null}
          errorTestId="settings-error-idle_lock_minutes"
        >
          <input
            id="settings-idle-lock"
            data-testid="settings-idle-lock"
            type="number"
            inputMode="numeric"
            min={1}
            max={240}
            dir="ltr"
            value={minutes ?? ""}
            disabled={minutes === null}
            onChange={(e) => setMinutes(e.target.value)}
          />
        </Field>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid="settings-save" disabled={busy || minutes === null}>
            {busy ? t("common.working") : t("common.save")}
          </button>
        </div>
      </form>
    </section>
  );
}
