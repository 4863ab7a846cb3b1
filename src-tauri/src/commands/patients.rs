//! Patients: search, registration, edits, the file, edit conflicts (`ws.patients()`).

use crate::AppState;
use dentpro_core::Result;
use dentpro_core::ids::{PatientId, RecordId};
use dentpro_core::patients::{ConflictDecision, Patient, PatientFile, PatientInput, PatientSummary};
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            search_patients,
            register_patient,
            update_patient,
            open_patient,
            resolve_patient_conflict,
        )
    };
}
pub(crate) use commands;

#[tauri::command(async)]
#[specta::specta]
pub fn search_patients(state: State<'_, AppState>, query: String, limit: u32) -> Result<Vec<PatientSummary>> {
    state.with_session(|ws, sid| ws.patients().search(sid, &query, limit))
}

#[tauri::command(async)]
#[specta::specta]
pub fn register_patient(state: State<'_, AppState>, input: PatientInput) -> Result<Patient> {
    state.with_session(|ws, sid| ws.patients().register(sid, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_patient(
    state: State<'_, AppState>,
    patient_id: PatientId,
    input: PatientInput,
) -> Result<Patient> {
    state.with_session(|ws, sid| ws.patients().update(sid, &patient_id, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn open_patient(state: State<'_, AppState>, patient_id: PatientId) -> Result<PatientFile> {
    state.with_session(|ws, sid| ws.patients().open(sid, &patient_id))
}

/// `apply`: use the losing edit's value; otherwise keep the current one.
#[tauri::command(async)]
#[specta::specta]
pub fn resolve_patient_conflict(
    state: State<'_, AppState>,
    patient_id: PatientId,
    record_id: RecordId,
    field: String,
    apply: bool,
) -> Result<PatientFile> {
    let decision = match apply {
        true => ConflictDecision::ApplyLosingEdit,
        false => ConflictDecision::KeepCurrent,
    };
    state.with_session(|ws, sid| {
        ws.patients()
            .resolve_conflict(sid, &patient_id, &record_id, &field, decision)
    })
}
