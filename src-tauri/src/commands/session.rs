//! Opening screen and sessions: status, about, the branch's setup, sign-in, lock and language.

use crate::AppState;
use dentpro_core::accounts::{Language, SetupInput};
use dentpro_core::workstation::{AboutInfo, AppStatus, SessionInfo};
use dentpro_core::{CoreError, ErrorCode, Result};
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            app_status,
            about,
            setup_branch,
            login,
            logout,
            unlock,
            heartbeat,
            set_language,
        )
    };
}
pub(crate) use commands;

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

// A session the core ended (too many wrong passwords) is forgotten by the window too.
#[tauri::command(async)]
#[specta::specta]
pub fn unlock(state: State<'_, AppState>, password: String) -> Result<SessionInfo> {
    let result = state.with_session(|ws, sid| ws.unlock(sid, &password));
    if let Err(CoreError {
        code: ErrorCode::NotLoggedIn,
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
