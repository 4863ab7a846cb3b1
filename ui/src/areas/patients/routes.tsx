import { useState } from "react";
import { Navigate, Outlet, useLocation, useParams, type RouteObject } from "react-router";
import { useGo } from "../../navigation";
import type { Patient } from "../../bindings";
import type { NoticeText } from "../../components/common";
import { PatientSearch } from "./Patients";
import { PatientForm } from "./PatientForm";
import { PatientFileView } from "./PatientFile";

/** What the area's layout hands its pages. */
export type PatientsOutlet = { query: string; setQuery: (q: string) => void };

/** Search (start page), register, a file, and a file's edit form. */
export const patientRoutes: Omit<RouteObject, "path" | "index"> = {
  element: <PatientsLayout />,
  children: [
    { index: true, element: <PatientSearch /> },
    { path: "new", element: <RegisterPatient /> },
    { path: ":id", element: <OpenFile /> },
    { path: ":id/edit", element: <EditPatient /> },
  ],
};

function PatientsLayout() {
  const [query, setQuery] = useState("");
  return <Outlet context={{ query, setQuery } satisfies PatientsOutlet} />;
}

/** Route state: the notice a file opens with (after saving), the patient an edit starts from. */
type FileState = { notice?: NoticeText } | null;
type EditState = { patient?: Patient } | null;

function RegisterPatient() {
  const navigate = useGo();
  return (
    <PatientForm
      patient={null}
      onCancel={() => navigate("/patients")}
      onSaved={(p) =>
        navigate(`/patients/${p.id}`, {
          state: { notice: { key: "patientForm.registered", values: { fileNumber: p.file_number } } } satisfies FileState,
        })
      }
    />
  );
}

function OpenFile() {
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useGo();
  const notice = (location.state as FileState)?.notice ?? null;
  return (
    <PatientFileView
      // A save opens the file afresh (a new location), with its notice.
      key={location.key}
      patientId={id}
      notice={notice}
      onBack={() => navigate("/patients")}
      onEdit={(file) => navigate(`/patients/${id}/edit`, { state: { patient: file.patient } satisfies EditState })}
    />
  );
}

function EditPatient() {
  const { id = "" } = useParams();
  const navigate = useGo();
  // The form starts from the file just shown: reading it again would record another viewing.
  const patient = (useLocation().state as EditState)?.patient;
  if (!patient || patient.id !== id) return <Navigate to={`/patients/${id}`} replace />;
  return (
    <PatientForm
      patient={patient}
      onCancel={() => navigate(`/patients/${id}`)}
      onSaved={(p) => navigate(`/patients/${p.id}`, { state: { notice: { key: "patientForm.updated" } } satisfies FileState })}
    />
  );
}
