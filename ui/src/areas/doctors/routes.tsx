import { useLocation, useParams, type RouteObject } from "react-router";
import { useGo } from "../../navigation";
import type { NoticeText } from "../../components/common";
import { DoctorsScreen } from "./Doctors";
import { DoctorForm } from "./DoctorForm";
import { DoctorPage } from "./DoctorPage";

/** The list of doctors with the chairs (start page), a new profile, and a doctor's page. */
export const doctorRoutes: Omit<RouteObject, "path" | "index"> = {
  children: [
    { index: true, element: <DoctorsScreen /> },
    { path: "new", element: <RegisterDoctor /> },
    { path: ":id", element: <OpenDoctor /> },
  ],
};

type PageState = { notice?: NoticeText } | null;

function RegisterDoctor() {
  const navigate = useGo();
  return (
    <DoctorForm
      doctor={null}
      onCancel={() => navigate("/doctors")}
      onSaved={(d) =>
        navigate(`/doctors/${d.id}`, { state: { notice: { key: "doctors.registered", values: { name: d.name_en } } } satisfies PageState })
      }
    />
  );
}

function OpenDoctor() {
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useGo();
  return <DoctorPage key={location.key} doctorId={id} notice={(location.state as PageState)?.notice ?? null} onBack={() => navigate("/doctors")} />;
}
