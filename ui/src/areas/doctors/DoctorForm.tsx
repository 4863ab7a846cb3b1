import { useQueryClient } from "@tanstack/react-query";
import { commands, type Doctor } from "../../bindings";
import { useApp } from "../../context";
import { useCommandForm } from "../../forms";
import { useLang } from "../../i18n/useLang";
import { useCommandQuery } from "../../query";
import { ErrorMessage, Field } from "../../components/common";
import { doctorKeys } from "./keys";
import { SPECIALTIES, doctorSchema, newDoctorSchema, type DoctorValues } from "./schema";

const FIELDS: readonly (keyof DoctorValues)[] = ["user_id", "name_en", "name_ar", "specialty", "licence", "status"];

function initialValues(d: Doctor | null): DoctorValues {
  return {
    user_id: d?.user_id ?? "",
    name_en: d?.name_en ?? "",
    name_ar: d?.name_ar ?? "",
    specialty: d?.specialty ?? "general_dentistry",
    licence: d?.licence ?? "",
    status: d?.status ?? "active",
  };
}

/** A new doctor profile (doctor = null: for an account with the doctor role) or an edit. */
export function DoctorForm({ doctor, onSaved, onCancel }: { doctor: Doctor | null; onSaved: (d: Doctor) => void; onCancel?: () => void }) {
  const { t } = useLang("doctors");
  const { showError } = useApp();
  const queryClient = useQueryClient();
  const candidates = useCommandQuery(doctorKeys.candidates, () => commands.doctorCandidates(), { enabled: doctor === null });
  const { form, error, busy, message, onSubmit } = useCommandForm<DoctorValues, Doctor>({
    schema: doctor ? doctorSchema : newDoctorSchema,
    defaultValues: initialValues(doctor),
    send: (v) => {
      const profile = { name_en: v.name_en, name_ar: v.name_ar, specialty: v.specialty, licence: v.licence };
      return doctor ? commands.updateDoctor(doctor.id, { ...profile, status: v.status }) : commands.registerDoctor({ ...profile, user_id: v.user_id });
    },
    onDone: (saved) => {
      void queryClient.invalidateQueries({ queryKey: doctorKeys.all });
      onSaved(saved);
    },
    fields: FIELDS,
  });
  const { register } = form;
  const none = doctor === null && candidates.data?.length === 0;

  return (
    <section className={doctor ? "" : "page"}>
      {doctor ? null : (
        <div className="page-head">
          <h1>{t("doctors.registerTitle")}</h1>
        </div>
      )}
      <form
        className="card"
        onSubmit={(e) => {
          showError(null);
          onSubmit(e);
        }}
        noValidate
        data-testid="doctor-form"
      >
        {doctor ? <h2>{t("doctors.editTitle")}</h2> : null}
        <ErrorMessage error={error} testId="df-error" />
        {none ? <p data-testid="df-no-candidates">{t("doctors.noCandidates")}</p> : null}
        <div className="form-grid">
          {doctor ? null : (
            <Field id="df-user_id" label={t("fields.user_id")} error={message("user_id")} errorTestId="df-error-user_id">
              <select id="df-user_id" data-testid="df-user_id" {...register("user_id")}>
                <option value="">{t("doctors.chooseAccount")}</option>
                {(candidates.data ?? []).map((c) => (
                  <option key={c.user_id} value={c.user_id}>
                    {c.display_name} ({c.username})
                  </option>
                ))}
              </select>
            </Field>
          )}
          <Field id="df-name_en" label={t("fields.name_en")} error={message("name_en")} errorTestId="df-error-name_en">
            <input id="df-name_en" data-testid="df-name_en" dir="ltr" lang="en" autoComplete="off" {...register("name_en")} />
          </Field>
          <Field id="df-name_ar" label={t("fields.name_ar")} error={message("name_ar")} errorTestId="df-error-name_ar">
            <input id="df-name_ar" data-testid="df-name_ar" dir="rtl" lang="ar" autoComplete="off" {...register("name_ar")} />
          </Field>
          <Field id="df-specialty" label={t("fields.specialty")} error={message("specialty")} errorTestId="df-error-specialty">
            <select id="df-specialty" data-testid="df-specialty" {...register("specialty")}>
              {SPECIALTIES.map((s) => (
                <option key={s} value={s}>
                  {t(`doctors.specialties.${s}`)}
                </option>
              ))}
            </select>
          </Field>
          <Field id="df-licence" label={t("fields.licence")} error={message("licence")} errorTestId="df-error-licence">
            <input id="df-licence" data-testid="df-licence" dir="ltr" maxLength={30} autoComplete="off" {...register("licence")} />
          </Field>
          {doctor ? (
            <Field id="df-status" label={t("fields.status")} error={message("status")}>
              <select id="df-status" data-testid="df-status" {...register("status")}>
                <option value="active">{t("doctors.statuses.active")}</option>
                <option value="retired">{t("doctors.statuses.retired")}</option>
              </select>
            </Field>
          ) : null}
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid="df-submit" disabled={busy}>
            {busy ? t("common.working") : t("doctors.save")}
          </button>
          {onCancel ? (
            <button type="button" className="btn" data-testid="df-cancel" onClick={onCancel}>
              {t("common.cancel")}
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
