//! Tauri commands: each takes the window's session, calls the core, and returns its result.
//! No rule lives here — permissions, validation and records are the core's.

use crate::AppState;
use dentpro_core::accounts::{Language, NewUser, SetupInput, UserSummary};
use dentpro_core::audit::{AuditFilter, AuditPage, VerifyReport};
use dentpro_core::patients::{Patient, PatientFile, PatientInput, PatientSummary};
use dentpro_core::settings::Settings;
use dentpro_core::workstation::{AboutInfo, AppStatus, SessionInfo};
use dentpro_core::{CoreError, Result};
use tauri::State;

#[tauri::command]
#[specta::specta]
pub fn app_status(state: State<'_, AppState>) -> Result<AppStatus> {
    state.with_workstation(|ws, session| ws.status(session))
}

#[tauri::command]
#[specta::specta]
pub fn about(state: State<'_, AppState>) -> Result<AboutInfo> {
    state.with_workstation(|ws, _| ws.about())
}

#[tauri::command]
#[specta::specta]
pub fn setup_branch(state: State<'_, AppState>, input: SetupInput) -> Result<SessionInfo> {
    let info = state.with_workstation(|ws, _| ws.setup_branch(&input))?;
    state.set_session(Some(info.session_id.clone()));
    Ok(info)
}

#[tauri::command]
#[specta::specta]
pub fn login(state: State<'_, AppState>, username: String, password: String) -> Result<SessionInfo> {
    let info = state.with_workstation(|ws, _| ws.login(&username, &password))?;
    state.set_session(Some(info.session_id.clone()));
    Ok(info)
}

#[tauri::command]
#[specta::specta]
pub fn logout(state: State<'_, AppState>) -> Result<()> {
    state.with_session(|ws, sid| ws.logout(sid))?;
    state.set_session(None);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub fn unlock(state: State<'_, AppState>, password: String) -> Result<SessionInfo> {
    let result = state.with_session(|ws, sid| ws.unlock(sid, &password));
    if let Err(CoreError {
        code: dentpro_core::ErrorCode::NotLoggedIn,
        ..
    }) = &result
    {
        state.set_session(None);
    }
    result
}

#[tauri::command]
#[specta::specta]
pub fn heartbeat(state: State<'_, AppState>) -> Result<()> {
    state.with_session(|ws, sid| ws.heartbeat(sid))
}

#[tauri::command]
#[specta::specta]
pub fn set_language(state: State<'_, AppState>, language: Language) -> Result<SessionInfo> {
    state.with_session(|ws, sid| ws.set_language(sid, language))
}

#[tauri::command]
#[specta::specta]
pub fn list_users(state: State<'_, AppState>) -> Result<Vec<UserSummary>> {
    state.with_session(|ws, sid| ws.list_users(sid))
}

#[tauri::command]
#[specta::specta]
pub fn create_user(state: State<'_, AppState>, input: NewUser) -> Result<UserSummary> {
    state.with_session(|ws, sid| ws.create_user(sid, &input))
}

#[tauri::command]
#[specta::specta]
pub fn reset_password(state: State<'_, AppState>, user_id: String, password: String) -> Result<()> {
    state.with_session(|ws, sid| ws.reset_password(sid, &user_id, &password))
}

#[tauri::command]
#[specta::specta]
pub fn set_user_active(state: State<'_, AppState>, user_id: String, active: bool) -> Result<UserSummary> {
    state.with_session(|ws, sid| ws.set_user_active(sid, &user_id, active))
}

#[tauri::command]
#[specta::specta]
pub fn get_settings(state: State<'_, AppState>) -> Result<Settings> {
    state.with_session(|ws, sid| ws.get_settings(sid))
}

#[tauri::command]
#[specta::specta]
pub fn set_idle_lock_minutes(state: State<'_, AppState>, minutes: u32) -> Result<Settings> {
    state.with_session(|ws, sid| ws.set_idle_lock_minutes(sid, minutes))
}

#[tauri::command]
#[specta::specta]
pub fn search_patients(state: State<'_, AppState>, query: String, limit: u32) -> Result<Vec<PatientSummary>> {
    state.with_session(|ws, sid| ws.search_patients(sid, &query, limit))
}

#[tauri::command]
#[specta::specta]
pub fn register_patient(state: State<'_, AppState>, input: PatientInput) -> Result<Patient> {
    state.with_session(|ws, sid| ws.register_patient(sid, &input))
}

#[tauri::command]
#[specta::specta]
pub fn update_patient(
    state: State<'_, AppState>,
    patient_id: String,
    input: PatientInput,
) -> Result<Patient> {
    state.with_session(|ws, sid| ws.update_patient(sid, &patient_id, &input))
}

#[tauri::command]
#[specta::specta]
pub fn open_patient(state: State<'_, AppState>, patient_id: String) -> Result<PatientFile> {
    state.with_session(|ws, sid| ws.open_patient(sid, &patient_id))
}

#[tauri::command]
#[specta::specta]
pub fn audit_trail(state: State<'_, AppState>, filter: AuditFilter) -> Result<AuditPage> {
    state.with_session(|ws, sid| ws.audit_trail(sid, &filter))
}

#[tauri::command]
#[specta::specta]
pub fn verify_audit(state: State<'_, AppState>) -> Result<VerifyReport> {
    state.with_session(|ws, sid| ws.verify_audit(sid))
}
