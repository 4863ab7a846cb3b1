//! Sync with the branch server: its status, a sync now, enrolment (the shell's `crate::sync`
//! runs the background sync; the core's `ws.sync()` and `ws.devices()` do the database work).

use crate::AppState;
use crate::sync::SyncStatus;
use dentpro_core::{CoreError, Result};
use dentpro_sync::client::EnrolmentTicket;
use std::sync::Arc;
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            sync_status,
            sync_now,
            enrol_workstation,
        )
    };
}
pub(crate) use commands;

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
    state.with_workstation(|ws, session| ws.devices().may_enrol(session))?;
    // The enrolment is a blocking HTTPS exchange: off the async runtime's threads.
    let ws = Arc::clone(&state.workstation);
    tauri::async_runtime::spawn_blocking(move || dentpro_sync::client::enrol(&*ws, &ticket, &label))
        .await
        .map_err(|e| CoreError::internal(format!("the enrolment task failed: {e}")))??;
    state.sync.start_if_enrolled(&state.workstation)?;
    state.sync.status(&state.workstation)
}
