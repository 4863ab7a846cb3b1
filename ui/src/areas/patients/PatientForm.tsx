import { useQueryClient } from "@tanstack/react-query";
import { commands, type Patient, type PatientInput, type Sex } from "../../bindings";
import { useApp } from "../../context";
import { todayIso } from "../../format";
import { useCommandForm, useErrorText } from "../../forms";
import { useLang } from "../../i18n/useLang";
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

/** The form's text: the patient's values, or empty (a missing national id too). */
function initialValues(p: Patient | null): Values {
  return Object.fromEntries(ALL_FIELDS.map((f) => [f, p?.[f] ?? ""])) as Values;
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
  const { form, error, busy, onSubmit } = useCommandForm<Values, Patient>({
    schema: patientSchema,
    defaultValues: initialValues(patient),
    send: (values) => (patient ? commands.updatePatient(patient.id, toInput(values)) : commands.registerPatient(toInput(values))),
    onDone: (saved) => {
      void queryClient.invalidateQueries({ queryKey: patientKeys.searches });
      onSaved(saved);
    },
    fields: ALL_FIELDS,
  });
  const {
    register,
    formState: { errors },
  } = form;
  const message = useErrorText(form);

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
      <form
        className="card"
        onSubmit={(e) => {
          showError(null);
          onSubmit(e);
        }}
        noValidate
        data-testid="patient-form"
      >
        <ErrorMessage error={error} testId="pf-error" />
        {SECTIONS.map((s) => (
          <fieldset key={s.title}>
            <legend>{t(s.title)}</legend>
            <div className="form-grid">
              {s.fields.map((f) => (
                  <Field
                    key={f.name}
                    id={`pf-${f.name}`}
                    label={t(`fields.${f.name}`)}
                    optional={f.optional}
                    wide={f.wide || f.control === "textarea"}
                    hint={f.hint ? t(f.hint) : undefined}
                    error={message(f.name)}
                    errorTestId={`pf-error-${f.name}`}
                  >
                    {renderControl(f)}
                  </Field>
              ))}
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
