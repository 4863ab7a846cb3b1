import { useEffect, useState } from "react";
import { keepPreviousData } from "@tanstack/react-query";
import { useOutletContext } from "react-router";
import { useGo } from "../../navigation";
import { commands } from "../../bindings";
import { useApp } from "../../context";
import { useLang } from "../../i18n/useLang";
import { useCommandQuery } from "../../query";
import { Ltr, TableHead } from "../../components/common";
import { patientKeys } from "./keys";
import type { PatientsOutlet } from "./routes";

const PATIENT_COLUMNS = [
  "patients.fileNumber",
  "patients.nameEn",
  "patients.nameAr",
  "patients.phone",
  "patients.dob",
] as const;

const SEARCH_DEBOUNCE_MS = 150;
const SEARCH_LIMIT = 20;

/** The area's start page: search by name, phone, file number or national id. */
export function PatientSearch() {
  const { t } = useLang("patients");
  const { can, showError } = useApp();
  const navigate = useGo();
  // The query lives in the area's layout: it survives opening a file and coming back.
  const { query, setQuery } = useOutletContext<PatientsOutlet>();
  const q = query.trim();
  const [asked, setAsked] = useState(q);
  useEffect(() => {
    const timer = window.setTimeout(() => setAsked(q), SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [q]);
  const search = useCommandQuery(patientKeys.search(asked), () => commands.searchPatients(asked, SEARCH_LIMIT), {
    enabled: asked !== "",
    placeholderData: keepPreviousData,
  });
  useEffect(() => {
    if (search.isSuccess) showError(null);
  }, [search.isSuccess, search.dataUpdatedAt, showError]);

  const rows = q && search.data ? search.data : [];
  const settled = asked === q && search.isSuccess && !search.isPlaceholderData && !search.isFetching;
  const onOpen = (id: string) => navigate(`/patients/${id}`);
  const onRegister = () => navigate("/patients/new");

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
