import { useState } from "react";
import { useForm } from "react-hook-form";
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { commands, type CoreError, type Patient, type PatientInput, type Sex } from "../../bindings";
import { useApp } from "../../context";
import { todayIso } from "../../format";
import { messageOf, showOnField } from "../../forms";
import { useLang } from "../../i18n/useLang";
import { run } from "../../query";
import { ErrorMessage, Field } from "../../components/common";
import { patientKeys } from "./keys";
import { patientSchema, type PatientValues } from "./schema";

type FieldName = keyof PatientInput & keyof PatientValues;
type Values = PatientValues;

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

/** The command's input from the form's text (the core trims and checks it again). */
function toInput(v: Values): PatientInput {
  return { ...v, sex: v.sex as Sex, national_id: v.national_id.trim() === "" ? null : v.national_id };
}

/** Register a new patient (patient = null) or edit an existing file. */
export function PatientForm({ patient, onCancel, onSaved }: { patient: Patient | null; onCancel: () => void; onSaved: (p: Patient) => void }) {
  const { t } = useLang("patients");
  const { showError } = useApp();
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    setError: setFieldError,
    formState: { errors },
  } = useForm<Values>({ defaultValues: initialValues(patient), resolver: zodResolver(patientSchema), reValidateMode: "onChange" });
  // A refusal that names no field of the form (e.g. forbidden), shown above the fields.
  const [error, setError] = useState<CoreError | null>(null);
  const save = useMutation<Patient, CoreError, PatientInput>({
    mutationFn: (input) => run(() => (patient ? commands.updatePatient(patient.id, input) : commands.registerPatient(input))),
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: patientKeys.searches });
      onSaved(saved);
    },
    onError: (e) => {
      if (!showOnField(e, ALL_FIELDS, setFieldError)) setError(e);
    },
  });
  const busy = save.isPending;

  const submit = handleSubmit(
    (values) => {
      setError(null);
      showError(null);
      save.mutate(toInput(values));
    },
    () => {
      setError(null);
      showError(null);
    },
  );

  const renderControl = (f: FieldSpec) => {
    const id = `pf-${f.name}`;
    const common = {
      id,
      "data-testid": id,
      ...register(f.name),
      "aria-invalid": errors[f.name] ? true : undefined,
      "aria-describedby": errors[f.name] ? `${id}-error` : undefined,
    };
    switch (f.control) {
      case "textarea":
        return <textarea {...common} rows={3} />;
      case "sex":
        return (
          <select {...common}>
            <option value="">{t("patientForm.chooseSex")}</option>
            <option value="male">{t("sex.male")}</option>
            <option value="female">{t("sex.female")}</option>
          </select>
        );
      case "date":
        return <input {...common} type="date" dir="ltr" max={todayIso()} min="1900-01-01" />;
      default:
        return (
          <input
            {...common}
            type={f.control === "tel" ? "tel" : "text"}
            dir={f.dir}
            lang={f.name === "name_ar" ? "ar" : f.name === "name_en" ? "en" : undefined}
            autoComplete="off"
           
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
      <form className="card" onSubmit={(e) => void submit(e)} noValidate data-testid="patient-form">
        <ErrorMessage error={error} testId="pf-error" />
        {SECTIONS.map((s) => (
          <fieldset key={s.title}>
            <legend>{t(s.title)}</legend>
            <div className="form-grid">
              {s.fields.map((f) => {
                const m = messageOf(errors[f.name]);
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
