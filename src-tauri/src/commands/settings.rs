//! Branch settings (`ws.settings()`).

use crate::AppState;
use dentpro_core::Result;
use dentpro_core::settings::Settings;
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            get_settings,
            set_idle_lock_minutes,
        )
    };
}
pub(crate) use commands;

#[tauri::command(async)]
#[specta::specta]
pub fn get_settings(state: State<'_, AppState>) -> Result<Settings> {
    state.with_session(|ws, sid| ws.settings().get(sid))
}

#[tauri::command(async)]
#[specta::specta]
pub fn set_idle_lock_minutes(state: State<'_, AppState>, minutes: u32) -> Result<Settings> {
    state.with_session(|ws, sid| ws.settings().set_idle_lock_minutes(sid, minutes))
}
