import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type Chair, type ChairInput, type CoreError } from "../../bindings";
import { useApp } from "../../context";
import { useCommandForm } from "../../forms";
import { useLang } from "../../i18n/useLang";
import { useGo } from "../../navigation";
import { run, useCommandQuery } from "../../query";
import { EmptyRow, ErrorMessage, Field, Ltr, Notice, type NoticeText, TableHead } from "../../components/common";
import { doctorKeys } from "./keys";
import { chairSchema, type ChairValues } from "./schema";

const DOCTOR_COLUMNS = ["doctors.name", "doctors.nameAr", "doctors.specialty", "doctors.licence", "doctors.status", "common.actions"] as const;
const CHAIR_COLUMNS = ["chairs.labelEn", "chairs.labelAr", "chairs.status", "common.actions"] as const;

/** The branch's doctors, and its chairs. */
export function DoctorsScreen() {
  const { t } = useLang("doctors");
  const { can } = useApp();
  const navigate = useGo();
  const list = useCommandQuery(doctorKeys.list, () => commands.listDoctors());
  const doctors = list.data ?? null;
  return (
    <section className="page">
      <div className="page-head">
        <h1>{t("doctors.title")}</h1>
        {can("doctor_edit") ? (
          <button type="button" className="btn btn-primary" data-testid="doctor-new" onClick={() => navigate("/doctors/new")}>
            {t("doctors.register")}
          </button>
        ) : null}
      </div>
      <div className="card table-card">
        <table className="table" data-testid="doctors-table">
          <TableHead columns={DOCTOR_COLUMNS} />
          <tbody>
            {doctors && doctors.length === 0 ? <EmptyRow columns={DOCTOR_COLUMNS} text={t("doctors.empty")} /> : null}
            {(doctors ?? []).map((d) => (
              <tr key={d.id} data-testid="doctor-row" data-licence={d.licence} data-status={d.status}>
                <td>
                  <bdi lang="en">{d.name_en}</bdi>
                </td>
                <td>
                  <bdi lang="ar">{d.name_ar}</bdi>
                </td>
                <td>{t(`doctors.specialties.${d.specialty}`)}</td>
                <td>
                  <Ltr>{d.licence}</Ltr>
                </td>
                <td>
                  <span className={d.status === "active" ? "pill pill-ok" : "pill pill-off"}>{t(`doctors.statuses.${d.status}`)}</span>
                </td>
                <td>
                  <button type="button" className="btn btn-small" data-testid="doctor-open" onClick={() => navigate(`/doctors/${d.id}`)}>
                    {t("doctors.open")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Chairs />
    </section>
  );
}

function Chairs() {
  const { t } = useLang("doctors");
  const { can, showError } = useApp();
  const queryClient = useQueryClient();
  const list = useCommandQuery(doctorKeys.chairs, () => commands.listChairs());
  const [notice, setNotice] = useState<NoticeText | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const saved = (key: string) => {
    setNotice({ key });
    setRenaming(null);
    showError(null);
    void queryClient.invalidateQueries({ queryKey: doctorKeys.chairs });
  };
  const setStatus = useMutation<Chair, CoreError, Chair>({
    mutationFn: (c) =>
      run(() => commands.updateChair(c.id, { label_en: c.label_en, label_ar: c.label_ar, status: c.status === "active" ? "retired" : "active" })),
    onSuccess: () => saved("chairs.saved"),
    onError: (e) => showError(e),
  });
  const editable = can("chair_edit");
  return (
    <div className="card" data-testid="chairs">
      <h2>{t("chairs.title")}</h2>
      <Notice text={notice} testId="chairs-message" />
      <table className="table" data-testid="chairs-table">
        <TableHead columns={CHAIR_COLUMNS} />
        <tbody>
          {list.data && list.data.length === 0 ? <EmptyRow columns={CHAIR_COLUMNS} text={t("chairs.empty")} /> : null}
          {(list.data ?? []).map((c) =>
            renaming === c.id ? (
              <tr key={c.id} className="inline-form-row">
                <td colSpan={CHAIR_COLUMNS.length}>
                  <ChairForm chair={c} onSaved={() => saved("chairs.saved")} onCancel={() => setRenaming(null)} />
                </td>
              </tr>
            ) : (
              <tr key={c.id} data-testid="chair-row" data-status={c.status}>
                <td>
                  <bdi lang="en">{c.label_en}</bdi>
                </td>
                <td>
                  <bdi lang="ar">{c.label_ar}</bdi>
                </td>
                <td>
                  <span className={c.status === "active" ? "pill pill-ok" : "pill pill-off"}>{t(`doctors.statuses.${c.status}`)}</span>
                </td>
                <td>
                  {editable ? (
                    <div className="row-actions">
                      <button type="button" className="btn btn-small" data-testid="chair-rename" onClick={() => setRenaming(c.id)}>
                        {t("chairs.rename")}
                      </button>
                      <button type="button" className="btn btn-small" data-testid="chair-status" disabled={setStatus.isPending} onClick={() => setStatus.mutate(c)}>
                        {c.status === "active" ? t("chairs.retire") : t("chairs.reinstate")}
                      </button>
                    </div>
                  ) : null}
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
      {editable ? <ChairForm chair={null} onSaved={() => saved("chairs.added")} /> : null}
    </div>
  );
}

const CHAIR_FIELDS: readonly (keyof ChairInput)[] = ["label_en", "label_ar"];

/** Adds a chair (chair = null) or renames one. */
function ChairForm({ chair, onSaved, onCancel }: { chair: Chair | null; onSaved: () => void; onCancel?: () => void }) {
  const { t } = useLang("doctors");
  const empty: ChairValues = { label_en: chair?.label_en ?? "", label_ar: chair?.label_ar ?? "" };
  const { form, error, busy, message, onSubmit } = useCommandForm<ChairValues, Chair>({
    schema: chairSchema,
    defaultValues: empty,
    send: (v) => (chair ? commands.updateChair(chair.id, { ...v, status: chair.status }) : commands.addChair(v)),
    onDone: () => {
      form.reset(empty);
      onSaved();
    },
    fields: CHAIR_FIELDS,
  });
  const { register } = form;
  const prefix = chair ? `chair-edit` : "chair-add";
  return (
    <form className="inline-form" onSubmit={onSubmit} noValidate data-testid={`${prefix}-form`}>
      <ErrorMessage error={error} testId={`${prefix}-error`} />
      <div className="form-grid">
        <Field id={`${prefix}-label_en`} label={t("chairs.labelEn")} error={message("label_en")} errorTestId={`${prefix}-error-label_en`}>
          <input id={`${prefix}-label_en`} data-testid={`${prefix}-label_en`} dir="ltr" lang="en" {...register("label_en")} />
        </Field>
        <Field id={`${prefix}-label_ar`} label={t("chairs.labelAr")} error={message("label_ar")} errorTestId={`${prefix}-error-label_ar`}>
          <input id={`${prefix}-label_ar`} data-testid={`${prefix}-label_ar`} dir="rtl" lang="ar" {...register("label_ar")} />
        </Field>
      </div>
      <div className="form-actions">
        <button type="submit" className="btn btn-primary btn-small" data-testid={`${prefix}-submit`} disabled={busy}>
          {chair ? t("common.save") : t("chairs.add")}
        </button>
        {onCancel ? (
          <button type="button" className="btn btn-small" onClick={onCancel}>
            {t("common.cancel")}
          </button>
        ) : null}
      </div>
    </form>
  );
}
