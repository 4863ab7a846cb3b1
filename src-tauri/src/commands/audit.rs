//! The audit trail, verification, its PDF report and printed documents (`ws.audit()`).

use crate::AppState;
use dentpro_core::Result;
use dentpro_core::audit::{AuditFilter, AuditPage, VerifyReport};
use dentpro_core::documents::{Document, audit_report::DocumentRef};
use tauri::State;

/// This area's commands, every one (a test in `commands/mod.rs` checks): `every_command!`
/// gathers them for `specta_builder()`.
macro_rules! commands {
    ($($state:tt)*) => {
        $crate::commands::gather!(@answer $($state)*
            audit_trail,
            verify_audit,
            audit_report,
            read_document,
        )
    };
}
pub(crate) use commands;

#[tauri::command(async)]
#[specta::specta]
pub fn audit_trail(state: State<'_, AppState>, filter: AuditFilter) -> Result<AuditPage> {
    state.with_session(|ws, sid| ws.audit().trail(sid, &filter))
}

#[tauri::command(async)]
#[specta::specta]
pub fn verify_audit(state: State<'_, AppState>) -> Result<VerifyReport> {
    state.with_session(|ws, sid| ws.audit().verify(sid))
}

/// Verifies and prints the report as a PDF; the outbox worker stores it right after.
#[tauri::command(async)]
#[specta::specta]
pub fn audit_report(state: State<'_, AppState>) -> Result<DocumentRef> {
    let document = state.with_session(|ws, sid| ws.audit().report(sid))?;
    state.outbox.request();
    Ok(document)
}

/// A printed document, decrypted, to show or save.
#[tauri::command(async)]
#[specta::specta]
pub fn read_document(state: State<'_, AppState>, document_id: String) -> Result<Document> {
    state.with_session(|ws, sid| ws.audit().read_document(sid, &document_id))
}
