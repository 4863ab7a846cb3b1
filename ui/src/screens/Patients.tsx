import { useEffect, useState } from "react";
import { commands, type Patient, type PatientFile as PatientFileData, type PatientSummary } from "../bindings";
import { call } from "../api";
import { useApp } from "../context";
import { useLang } from "../i18n/useLang";
import { Ltr, type NoticeText, TableHead } from "../components/common";
import { PatientForm } from "./PatientForm";
import { PatientFileView } from "./PatientFile";

const PATIENT_COLUMNS = [
  "patients.fileNumber",
  "patients.nameEn",
  "patients.nameAr",
  "patients.phone",
  "patients.dob",
] as const;

type View =
  | { name: "search" }
  | { name: "new" }
  | { name: "file"; id: string; notice: NoticeText | null }
  | { name: "edit"; patient: Patient };

export function PatientsScreen() {
  const [view, setView] = useState<View>({ name: "search" });
  // The query survives opening a file and coming back.
  const [query, setQuery] = useState("");

  switch (view.name) {
    case "search":
      return (
        <PatientSearch
          query={query}
          setQuery={setQuery}
          onOpen={(id) => setView({ name: "file", id, notice: null })}
          onRegister={() => setView({ name: "new" })}
        />
      );
    case "new":
      return (
        <PatientForm
          patient={null}
          onCancel={() => setView({ name: "search" })}
          onSaved={(p) => setView({ name: "file", id: p.id, notice: { key: "patientForm.registered", values: { fileNumber: p.file_number } } })}
        />
      );
    case "file":
      return (
        <PatientFileView
          key={view.id + JSON.stringify(view.notice)}
          patientId={view.id}
          notice={view.notice}
          onBack={() => setView({ name: "search" })}
          onEdit={(file: PatientFileData) => setView({ name: "edit", patient: file.patient })}
        />
      );
    case "edit":
      return (
        <PatientForm
          patient={view.patient}
          onCancel={() => setView({ name: "file", id: view.patient.id, notice: null })}
          onSaved={(p) => setView({ name: "file", id: p.id, notice: { key: "patientForm.updated" } })}
        />
      );
  }
}

const SEARCH_DEBOUNCE_MS = 150;
const SEARCH_LIMIT = 20;

function PatientSearch({
  query,
  setQuery,
  onOpen,
  onRegister,
}: {
  query: string;
  setQuery: (q: string) => void;
  onOpen: (id: string) => void;
  onRegister: () => void;
}) {
  const { t } = useLang();
  const { can, showError } = useApp();
  const [results, setResults] = useState<{ q: string; rows: PatientSummary[] } | null>(null);
  const q = query.trim();

  useEffect(() => {
    if (!q) return;
    let cancelled = false;
    const timer = window.setTimeout(() => {
      void call(() => commands.searchPatients(q, SEARCH_LIMIT)).then((r) => {
        if (cancelled) return;
        if (r.status === "ok") {
          setResults({ q, rows: r.data });
          showError(null);
        } else showError(r.error);
      });
    }, SEARCH_DEBOUNCE_MS);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [q, showError]);

  const rows = q && results ? results.rows : [];
  const settled = results?.q === q;

  return (
    <section className="page">
      <div className="page-head">
        <h1>{t("patients.title")}</h1>
        {can("patient_register") ? (
          <button type="button" className="btn btn-primary" data-testid="register-patient" onClick={onRegister}>
            + {t("patients.register")}
          </button>
        ) : null}
      </div>
      <div className="card">
        <label htmlFor="patient-search" className="search-label">
          {t("patients.searchLabel")}
        </label>
        <input
          id="patient-search"
          data-testid="patient-search"
          className="search-input"
          type="search"
          autoFocus
          autoComplete="off"
          placeholder={t("patients.searchPlaceholder")}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      {!q ? (
        <p className="muted empty-hint" data-testid="patient-search-hint">
          {t("patients.typeToSearch")}
        </p>
      ) : settled && rows.length === 0 ? (
        <p className="muted empty-hint" data-testid="patient-no-results">
          {t("patients.noResults")}
        </p>
      ) : (
        <div className="card table-card">
          <table className="table table-clickable" data-testid="patient-results" aria-busy={!settled}>
            <TableHead columns={PATIENT_COLUMNS} />
            <tbody>
              {rows.map((p) => (
                <tr
                  key={p.id}
                  data-testid="patient-row"
                  data-file-number={p.file_number}
                  data-patient-id={p.id}
                  tabIndex={0}
                  onClick={() => onOpen(p.id)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      onOpen(p.id);
                    }
                  }}
                >
                  <td>
                    <Ltr>{p.file_number}</Ltr>
                  </td>
                  <td>
                    <bdi lang="en">{p.name_en}</bdi>
                  </td>
                  <td>
                    <bdi lang="ar">{p.name_ar}</bdi>
                  </td>
                  <td>
                    <Ltr>{p.phone}</Ltr>
                  </td>
                  <td>
                    <Ltr>{p.date_of_birth}</Ltr>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
