//! The branch's workstations: the list, the overview with the server's view, revocation
//! (`ws.devices()`).

use crate::AppState;
use dentpro_core::devices::{BranchDevice, DeviceOverview};
use dentpro_core::ids::DeviceId;
use dentpro_core::{CoreError, Result};
use std::sync::Arc;
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            branch_devices,
            device_overview,
            revoke_device,
        )
    };
}
pub(crate) use commands;

#[tauri::command(async)]
#[specta::specta]
pub fn branch_devices(state: State<'_, AppState>) -> Result<Vec<BranchDevice>> {
    state.with_session(|ws, sid| ws.devices().branch_devices(sid))
}

/// The devices screen: the branch's workstations from this one's records (the permission
/// checked, a refusal recorded), with the branch server's last-seen times and lag when it
/// answers; unreachable, the local list with `live: false` (not an error).
#[tauri::command]
#[specta::specta]
pub async fn device_overview(state: State<'_, AppState>) -> Result<DeviceOverview> {
    let local = state.with_session(|ws, sid| ws.devices().branch_devices(sid))?;
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
pub fn revoke_device(
    state: State<'_, AppState>,
    device_id: DeviceId,
    reason: String,
) -> Result<BranchDevice> {
    let device = state.with_session(|ws, sid| ws.devices().revoke(sid, &device_id, &reason))?;
    if let Err(e) = state.sync.start_if_enrolled(&state.workstation) {
        tracing::warn!(code = ?e.code, "cannot start a sync after a revocation: {}", e.message);
    }
    Ok(device)
}
