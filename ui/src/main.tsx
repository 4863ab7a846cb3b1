import { createRoot } from "react-dom/client";
import "./i18n";
import "./styles.css";
import { App } from "./App";

// No <StrictMode>: it runs effects twice in development, and opening a patient file is an
// audited action — a double "patient.viewed" record would be a false trail.
const root = document.getElementById("root");
if (!root) throw new Error("missing #root");
createRoot(root).render(<App />);
