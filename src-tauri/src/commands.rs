//! Tauri commands: each takes the window's session, calls the core, and returns its result.
//! No rule lives here — permissions, validation and records are the core's.
//!
//! Every command runs off the main thread (`async fn`, or `#[tauri::command(async)]` for the
//! blocking ones): a command waiting for the workstation while the sync thread applies a page
//! of a catch-up must not freeze the window. A test below keeps it so.

pub mod doctors;

use crate::AppState;
use crate::sync::SyncStatus;
use dentpro_core::accounts::{Language, NewUser, SetupInput, UserSummary};
use dentpro_core::audit::{AuditFilter, AuditPage, VerifyReport};
use dentpro_core::devices::{BranchDevice, DeviceOverview};
use dentpro_core::documents::{Document, audit_report::DocumentRef};
use dentpro_core::patients::{Patient, PatientFile, PatientInput, PatientSummary};
use dentpro_core::settings::Settings;
use dentpro_core::workstation::{AboutInfo, AppStatus, SessionInfo};
use dentpro_core::{CoreError, Result};
use dentpro_sync::client::EnrolmentTicket;
use std::sync::Arc;
use tauri::State;

#[tauri::command(async)]
#[specta::specta]
pub fn app_status(state: State<'_, AppState>) -> Result<AppStatus> {
    state.with_workstation(|ws, session| ws.status(session))
}

#[tauri::command(async)]
#[specta::specta]
pub fn about(state: State<'_, AppState>) -> Result<AboutInfo> {
    state.with_workstation(|ws, _| ws.about())
}

#[tauri::command(async)]
#[specta::specta]
pub fn setup_branch(state: State<'_, AppState>, input: SetupInput) -> Result<SessionInfo> {
    let info = state.with_workstation(|ws, _| ws.setup_branch(&input))?;
    state.set_session(Some(info.session_id.clone()));
    Ok(info)
}

#[tauri::command(async)]
#[specta::specta]
pub fn login(state: State<'_, AppState>, username: String, password: String) -> Result<SessionInfo> {
    let info = state.with_workstation(|ws, _| ws.login(&username, &password))?;
    state.set_session(Some(info.session_id.clone()));
    Ok(info)
}

#[tauri::command(async)]
#[specta::specta]
pub fn logout(state: State<'_, AppState>) -> Result<()> {
    state.with_session(|ws, sid| ws.logout(sid))?;
    state.set_session(None);
    Ok(())
}

#[tauri::command(async)]
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

#[tauri::command(async)]
#[specta::specta]
pub fn heartbeat(state: State<'_, AppState>) -> Result<()> {
    state.with_session(|ws, sid| ws.heartbeat(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_language(state: State<'_, AppState>, language: Language) -> Result<SessionInfo> {
    state.with_session(|ws, sid| ws.set_language(sid, language))
}

#[tauri::command(async)]
#[specta::specta]
pub fn list_users(state: State<'_, AppState>) -> Result<Vec<UserSummary>> {
    state.with_session(|ws, sid| ws.list_users(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn create_user(state: State<'_, AppState>, input: NewUser) -> Result<UserSummary> {
    state.with_session(|ws, sid| ws.create_user(sid, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn reset_password(state: State<'_, AppState>, user_id: String, password: String) -> Result<()> {
    state.with_session(|ws, sid| ws.reset_password(sid, &user_id, &password))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_user_active(state: State<'_, AppState>, user_id: String, active: bool) -> Result<UserSummary> {
    state.with_session(|ws, sid| ws.set_user_active(sid, &user_id, active))
}

#[tauri::command(async)]
#[specta::specta]
pub fn branch_devices(state: State<'_, AppState>) -> Result<Vec<BranchDevice>> {
    state.with_session(|ws, sid| ws.branch_devices(sid))
}

/// The devices screen: the branch's workstations from this one's records (the permission
/// checked, a refusal recorded), with the branch server's last-seen times and lag when it
/// answers; unreachable, the local list with `live: false` (not an error).
#[tauri::command]
#[specta::specta]
pub async fn device_overview(state: State<'_, AppState>) -> Result<DeviceOverview> {
    let local = state.with_session(|ws, sid| ws.branch_devices(sid))?;
    // The server is asked over blocking HTTPS: off the async runtime's threads.
    let ws = Arc::clone(&state.workstation);
    let live = tauri::async_runtime::spawn_blocking(move || dentpro_sync::client::live_devices(&*ws))
        .await
        .map_err(|e| CoreError::internal(format!("the device list task failed: {e}")))?;
    state.with_workstation(|ws, _| {
        Ok(dentpro_core::devices::device_overview(
            local,
            ws.device_id(),
            live,
        ))
    })
}

/// Revokes another workstation of the branch, then asks the background sync to tell the server.
#[tauri::command(async)]
#[specta::specta]
pub fn revoke_device(state: State<'_, AppState>, device_id: String, reason: String) -> Result<BranchDevice> {
    let device = state.with_session(|ws, sid| ws.revoke_device(sid, &device_id, &reason))?;
    if let Err(e) = state.sync.start_if_enrolled(&state.workstation) {
        tracing::warn!(code = ?e.code, "cannot start a sync after a revocation: {}", e.message);
    }
    Ok(device)
}

#[tauri::command(async)]
#[specta::specta]
pub fn cashier_terminals(state: State<'_, AppState>, user_id: String) -> Result<Vec<String>> {
    state.with_session(|ws, sid| ws.cashier_terminals(sid, &user_id))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_cashier_terminals(
    state: State<'_, AppState>,
    user_id: String,
    device_ids: Vec<String>,
) -> Result<Vec<String>> {
    state.with_session(|ws, sid| ws.set_cashier_terminals(sid, &user_id, &device_ids))
}

#[tauri::command(async)]
#[specta::specta]
pub fn get_settings(state: State<'_, AppState>) -> Result<Settings> {
    state.with_session(|ws, sid| ws.get_settings(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_idle_lock_minutes(state: State<'_, AppState>, minutes: u32) -> Result<Settings> {
    state.with_session(|ws, sid| ws.set_idle_lock_minutes(sid, minutes))
}

#[tauri::command(async)]
#[specta::specta]
pub fn search_patients(state: State<'_, AppState>, query: String, limit: u32) -> Result<Vec<PatientSummary>> {
    state.with_session(|ws, sid| ws.search_patients(sid, &query, limit))
}

#[tauri::command(async)]
#[specta::specta]
pub fn register_patient(state: State<'_, AppState>, input: PatientInput) -> Result<Patient> {
    state.with_session(|ws, sid| ws.register_patient(sid, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn update_patient(
    state: State<'_, AppState>,
    patient_id: String,
    input: PatientInput,
) -> Result<Patient> {
    state.with_session(|ws, sid| ws.update_patient(sid, &patient_id, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn open_patient(state: State<'_, AppState>, patient_id: String) -> Result<PatientFile> {
    state.with_session(|ws, sid| ws.open_patient(sid, &patient_id))
}

/// `apply`: use the losing edit's value; otherwise keep the current one.
#[tauri::command(async)]
#[specta::specta]
pub fn resolve_patient_conflict(
    state: State<'_, AppState>,
    patient_id: String,
    record_id: String,
    field: String,
    apply: bool,
) -> Result<PatientFile> {
    state.with_session(|ws, sid| ws.resolve_patient_conflict(sid, &patient_id, &record_id, &field, apply))
}

#[tauri::command(async)]
#[specta::specta]
pub fn audit_trail(state: State<'_, AppState>, filter: AuditFilter) -> Result<AuditPage> {
    state.with_session(|ws, sid| ws.audit_trail(sid, &filter))
}

#[tauri::command(async)]
#[specta::specta]
pub fn verify_audit(state: State<'_, AppState>) -> Result<VerifyReport> {
    state.with_session(|ws, sid| ws.verify_audit(sid))
}

/// Verifies and prints the report as a PDF; the outbox worker stores it right after.
#[tauri::command(async)]
#[specta::specta]
pub fn audit_report(state: State<'_, AppState>) -> Result<DocumentRef> {
    let document = state.with_session(|ws, sid| ws.audit_report(sid))?;
    state.outbox.request();
    Ok(document)
}

/// A printed document, decrypted, to show or save.
#[tauri::command(async)]
#[specta::specta]
pub fn read_document(state: State<'_, AppState>, document_id: String) -> Result<Document> {
    state.with_session(|ws, sid| ws.read_document(sid, &document_id))
}

// ---- sync with the branch server ----

/// Where sync stands; needs no session (the sign-in screen shows it too).
#[tauri::command(async)]
#[specta::specta]
pub fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus> {
    state.sync.status(&state.workstation)
}

/// Asks the background sync to run now (starting it if the workstation is enrolled).
#[tauri::command(async)]
#[specta::specta]
pub fn sync_now(state: State<'_, AppState>) -> Result<SyncStatus> {
    state.sync.start_if_enrolled(&state.workstation)?;
    state.sync.status(&state.workstation)
}

/// Enrols this workstation with the branch server named in `ticket`
/// (`dentpro-enrol:<code>@<host:port>#<fingerprint>`), then starts the background sync.
#[tauri::command]
#[specta::specta]
pub async fn enrol_workstation(
    state: State<'_, AppState>,
    ticket: String,
    label: String,
) -> Result<SyncStatus> {
    let ticket: EnrolmentTicket = ticket.parse()?;
    let label = label.trim().to_owned();
    if label.is_empty() {
        return Err(CoreError::invalid("label", "required"));
    }
    state.with_workstation(|ws, session| ws.may_enrol(session))?;
    // The enrolment is a blocking HTTPS exchange: off the async runtime's threads.
    let ws = Arc::clone(&state.workstation);
    tauri::async_runtime::spawn_blocking(move || dentpro_sync::client::enrol(&*ws, &ticket, &label))
        .await
        .map_err(|e| CoreError::internal(format!("the enrolment task failed: {e}")))??;
    state.sync.start_if_enrolled(&state.workstation)?;
    state.sync.status(&state.workstation)
}

#[cfg(test)]
mod tests {
    /// A plain `#[tauri::command]` on a blocking `fn` runs on the main thread and would freeze
    /// the window whenever the sync thread holds the workstation.
    #[test]
    fn no_command_runs_on_the_main_thread() {
        let source = include_str!("commands.rs");
        let lines: Vec<&str> = source.lines().collect();
        let mut commands = 0;
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("#[tauri::command") {
                continue;
            }
            commands += 1;
            let signature = lines[i..]
                .iter()
                .find(|l| l.contains("fn "))
                .expect("a command attribute is followed by its fn");
            assert!(
                line.contains("(async)") || signature.contains("async fn"),
                "{signature}: make it `#[tauri::command(async)]`"
            );
        }
        assert!(commands >= 20, "found only {commands} commands");
    }
}
