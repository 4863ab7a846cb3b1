//! Users and the cashier terminals they are bound to (`ws.accounts()`).

use crate::AppState;
use dentpro_core::Result;
use dentpro_core::accounts::{NewUser, UserSummary};
use dentpro_core::ids::{DeviceId, UserId};
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            list_users,
            create_user,
            reset_password,
            set_user_active,
            cashier_terminals,
            set_cashier_terminals,
        )
    };
}
pub(crate) use commands;

#[tauri::command(async)]
#[specta::specta]
pub fn list_users(state: State<'_, AppState>) -> Result<Vec<UserSummary>> {
    state.with_session(|ws, sid| ws.accounts().list_users(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn create_user(state: State<'_, AppState>, input: NewUser) -> Result<UserSummary> {
    state.with_session(|ws, sid| ws.accounts().create_user(sid, &input))
}

#[tauri::command(async)]
#[specta::specta]
pub fn reset_password(state: State<'_, AppState>, user_id: UserId, password: String) -> Result<()> {
    state.with_session(|ws, sid| ws.accounts().reset_password(sid, &user_id, &password))
}

// One IPC command for the users screen's switch (its shape is the UI's); two in the core.
#[tauri::command(async)]
#[specta::specta]
pub fn set_user_active(state: State<'_, AppState>, user_id: UserId, active: bool) -> Result<UserSummary> {
    match active {
        true => state.with_session(|ws, sid| ws.accounts().reactivate(sid, &user_id)),
        false => state.with_session(|ws, sid| ws.accounts().deactivate(sid, &user_id)),
    }
}

#[tauri::command(async)]
#[specta::specta]
pub fn cashier_terminals(state: State<'_, AppState>, user_id: UserId) -> Result<Vec<DeviceId>> {
    state.with_session(|ws, sid| ws.accounts().cashier_terminals(sid, &user_id))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_cashier_terminals(
    state: State<'_, AppState>,
    user_id: UserId,
    device_ids: Vec<DeviceId>,
) -> Result<Vec<DeviceId>> {
    state.with_session(|ws, sid| ws.accounts().set_cashier_terminals(sid, &user_id, &device_ids))
}
