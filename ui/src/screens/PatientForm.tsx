import { useRef, useState, type FormEvent } from "react";
import { commands, type CoreError, type Patient, type PatientInput, type Sex } from "../bindings";
import { call } from "../api";
import { useApp } from "../context";
import { fieldMessage, type FieldMessage } from "../errors";
import { todayIso } from "../format";
import { useLang } from "../i18n/useLang";
import { ErrorMessage, Field } from "../components/common";

type FieldName = keyof PatientInput;
type Values = Record<FieldName, string>;

type FieldSpec = {
  name: FieldName;
  control: "text" | "tel" | "date" | "sex" | "textarea";
  dir?: "ltr" | "rtl";
  optional?: boolean;
  wide?: boolean;
  hint?: string;
};

const SECTIONS: { title: string; fields: FieldSpec[] }[] = [
  {
    title: "patientForm.identity",
    fields: [
      { name: "name_en", control: "text", dir: "ltr", hint: "patientForm.nameHint" },
      { name: "name_ar", control: "text", dir: "rtl" },
      { name: "date_of_birth", control: "date" },
      { name: "sex", control: "sex" },
      { name: "national_id", control: "text", dir: "ltr", optional: true },
    ],
  },
  {
    title: "patientForm.contact",
    fields: [
      { name: "phone", control: "tel", dir: "ltr" },
      { name: "emergency_contact", control: "text" },
      { name: "address", control: "text", wide: true },
    ],
  },
  {
    title: "patientForm.medical",
    fields: [
      { name: "allergies", control: "textarea" },
      { name: "chronic_diseases", control: "textarea" },
      { name: "current_medications", control: "textarea" },
      { name: "medical_history", control: "textarea" },
    ],
  },
];

const ALL_FIELDS: FieldName[] = SECTIONS.flatMap((s) => s.fields.map((f) => f.name));

function initialValues(p: Patient | null): Values {
  return {
    name_en: p?.name_en ?? "",
    name_ar: p?.name_ar ?? "",
    date_of_birth: p?.date_of_birth ?? "",
    sex: p?.sex ?? "",
    phone: p?.phone ?? "",
    national_id: p?.national_id ?? "",
    address: p?.address ?? "",
    emergency_contact: p?.emergency_contact ?? "",
    allergies: p?.allergies ?? "",
    chronic_diseases: p?.chronic_diseases ?? "",
    current_medications: p?.current_medications ?? "",
    medical_history: p?.medical_history ?? "",
  };
}

function isField(f: string): f is FieldName {
  return (ALL_FIELDS as string[]).includes(f);
}

/** Register a new patient (patient = null) or edit an existing file. */
export function PatientForm({ patient, onCancel, onSaved }: { patient: Patient | null; onCancel: () => void; onSaved: (p: Patient) => void }) {
  const { t } = useLang();
  const { showError } = useApp();
  const [values, setValues] = useState<Values>(() => initialValues(patient));
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<FieldName, FieldMessage>>>({});
  const [error, setError] = useState<CoreError | null>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);

  const set = (name: FieldName, v: string) => {
    setValues((old) => ({ ...old, [name]: v }));
    if (fieldErrors[name]) setFieldErrors((old) => ({ ...old, [name]: undefined }));
  };

  const focusField = (name: FieldName) => {
    window.setTimeout(() => formRef.current?.querySelector<HTMLElement>(`[name="${name}"]`)?.focus(), 0);
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    showError(null);
    if (values.sex !== "male" && values.sex !== "female") {
      setFieldErrors({ sex: { key: "reasons.invalid_sex", vars: {} } });
      focusField("sex");
      return;
    }
    setFieldErrors({});
    const input: PatientInput = {
      name_en: values.name_en,
      name_ar: values.name_ar,
      date_of_birth: values.date_of_birth,
      sex: values.sex as Sex,
      phone: values.phone,
      national_id: values.national_id.trim() === "" ? null : values.national_id,
      address: values.address,
      emergency_contact: values.emergency_contact,
      allergies: values.allergies,
      chronic_diseases: values.chronic_diseases,
      current_medications: values.current_medications,
      medical_history: values.medical_history,
    };
    setBusy(true);
    const r = await call(() => (patient ? commands.updatePatient(patient.id, input) : commands.registerPatient(input)));
    setBusy(false);
    if (r.status === "ok") {
      onSaved(r.data);
      return;
    }
    const fm = fieldMessage(r.error);
    if (fm && isField(fm.field)) {
      setFieldErrors({ [fm.field]: fm.message });
      focusField(fm.field);
    } else setError(r.error);
  }

  const renderControl = (f: FieldSpec) => {
    const id = `pf-${f.name}`;
    const common = {
      id,
      name: f.name,
      "data-testid": id,
      value: values[f.name],
      "aria-invalid": fieldErrors[f.name] ? true : undefined,
      "aria-describedby": fieldErrors[f.name] ? `${id}-error` : undefined,
    };
    switch (f.control) {
      case "textarea":
        return <textarea {...common} rows={3} onChange={(e) => set(f.name, e.target.value)} />;
      case "sex":
        return (
          <select {...common} onChange={(e) => set(f.name, e.target.value)}>
            <option value="">{t("patientForm.chooseSex")}</option>
            <option value="male">{t("sex.male")}</option>
            <option value="female">{t("sex.female")}</option>
          </select>
        );
      case "date":
        return <input {...common} type="date" dir="ltr" max={todayIso()} min="1900-01-01" onChange={(e) => set(f.name, e.target.value)} />;
      default:
        return (
          <input
            {...common}
            type={f.control === "tel" ? "tel" : "text"}
            dir={f.dir}
            lang={f.name === "name_ar" ? "ar" : f.name === "name_en" ? "en" : undefined}
            autoComplete="off"
            onChange={(e) => set(f.name, e.target.value)}
          />
        );
    }
  };

  return (
    <section className="page">
      <div className="page-head">
        <h1>
          {patient ? t("patientForm.editTitle", { fileNumber: patient.file_number }) : t("patientForm.registerTitle")}
        </h1>
      </div>
      <form ref={formRef} className="card" onSubmit={submit} noValidate data-testid="patient-form">
        <ErrorMessage error={error} testId="pf-error" />
        {SECTIONS.map((s) => (
          <fieldset key={s.title}>
            <legend>{t(s.title)}</legend>
            <div className="form-grid">
              {s.fields.map((f) => {
                const m = fieldErrors[f.name];
                return (
                  <Field
                    key={f.name}
                    id={`pf-${f.name}`}
                    label={t(`fields.${f.name}`)}
                    optional={f.optional}
                    wide={f.wide || f.control === "textarea"}
                    hint={f.hint ? t(f.hint) : undefined}
                    error={m ? t(m.key, m.vars) : null}
                    errorTestId={`pf-error-${f.name}`}
                  >
                    {renderControl(f)}
                  </Field>
                );
              })}
            </div>
          </fieldset>
        ))}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid="pf-submit" disabled={busy}>
            {busy ? t("common.working") : patient ? t("patientForm.submitEdit") : t("patientForm.submitRegister")}
          </button>
          <button type="button" className="btn" data-testid="pf-cancel" onClick={onCancel} disabled={busy}>
            {t("common.cancel")}
          </button>
        </div>
      </form>
    </section>
  );
}
