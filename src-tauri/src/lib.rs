//! The DentPro desktop shell: Tauri setup, the window's state, and thin commands over
//! `dentpro-core`. The command-line tool (`dentpro audit verify`, `dentpro demo`) shares the
//! binary; see `cli.rs`.

pub mod cli;
mod commands;
pub mod outbox;
pub mod sync;

use dentpro_core::device::KeyStorePreference;
use dentpro_core::ids::SessionId;
use dentpro_core::workstation::{OpenOptions, Workstation};
use dentpro_core::{CoreError, ErrorCode, Result};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use sync::{SyncEngine, WorkstationCell};
use tauri::Manager;

/// The window's state: the workstation (or why it could not open), the signed-in session, and
/// the background sync (which shares the workstation).
pub struct AppState {
    workstation: Arc<WorkstationCell>,
    session: Mutex<Option<SessionId>>,
    sync: Arc<SyncEngine>,
    /// Performs the side effects records queued (documents to the store), after their commit.
    outbox: Arc<outbox::OutboxWorker>,
}

impl AppState {
    fn with_workstation<T>(
        &self,
        f: impl FnOnce(&mut Workstation, Option<&SessionId>) -> Result<T>,
    ) -> Result<T> {
        let session = self.session.lock().expect("session lock poisoned").clone();
        let mut guard = self.workstation.lock();
        match guard.as_mut() {
            Ok(ws) => f(ws, session.as_ref()),
            Err(e) => Err(e.clone()),
        }
    }

    fn with_session<T>(&self, f: impl FnOnce(&mut Workstation, &SessionId) -> Result<T>) -> Result<T> {
        self.with_workstation(|ws, session| {
            let sid = session.ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "please log in"))?;
            f(ws, sid)
        })
    }

    fn set_session(&self, session: Option<SessionId>) {
        *self.session.lock().expect("session lock poisoned") = session;
    }
}

/// The sync client reaches the workstation through the app's state (locked only around
/// database work).
impl dentpro_sync::client::Access for AppState {
    fn with<T>(&self, f: impl FnOnce(&mut Workstation) -> Result<T>) -> Result<T> {
        self.workstation.with(f)
    }
}

/// How the window was asked to start.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub data_dir: Option<PathBuf>,
    pub key_store: KeyStorePreference,
    /// Fill a new data dir with the demo branch on first start.
    pub demo: bool,
}

/// The builder of every command the UI may call, also used to export the TypeScript bindings.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        // Every record kind, from the core's registry: the audit screen's kind filter.
        .constant("KNOWN_KINDS", dentpro_core::registry::kind_names())
        // Every area's commands, each area listing its own (`commands/<area>.rs`).
        .commands(commands::every_command!())
}

/// Writes the UI's command bindings (`ui/src/bindings.ts`) from the Rust types.
pub fn export_bindings(path: &std::path::Path) -> std::result::Result<(), String> {
    let ts = specta_typescript::Typescript::default()
        .bigint(specta_typescript::BigIntExportBehavior::Number)
        .header(
            "// Generated from the Rust types by `dentpro export-bindings`. Do not edit.\n// @ts-nocheck",
        );
    specta_builder().export(ts, path).map_err(|e| e.to_string())
}

fn open_workstation(data_dir: PathBuf, opts: &RunOptions) -> std::result::Result<Workstation, CoreError> {
    let fresh = !data_dir.join(dentpro_core::store::DB_FILE).exists();
    let mut open = OpenOptions::new(data_dir);
    open.key_store = opts.key_store;
    let mut ws = Workstation::open(open)?;
    if fresh && opts.demo {
        dentpro_core::demo::populate(&mut ws, 300)?;
    }
    Ok(ws)
}

pub fn run(opts: RunOptions) {
    let builder = specta_builder();
    tauri::Builder::default()
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            let data_dir = match &opts.data_dir {
                Some(dir) => dir.clone(),
                None => app.path().app_data_dir()?,
            };
            tracing::info!(data_dir = %data_dir.display(), "opening workstation");
            let workstation = open_workstation(data_dir, &opts);
            if let Err(e) = &workstation {
                tracing::error!(code = ?e.code, "cannot open the workstation: {}", e.message);
            }
            let workstation = Arc::new(WorkstationCell::new(workstation));
            let state = AppState {
                outbox: outbox::OutboxWorker::start(Arc::clone(&workstation)),
                workstation,
                session: Mutex::new(None),
                sync: SyncEngine::new(),
            };
            // An enrolled workstation syncs from the start (the guard is released first: the
            // sync locks the workstation itself).
            let opened = state.workstation.lock().is_ok();
            if opened && let Err(e) = state.sync.start_if_enrolled(&state.workstation) {
                tracing::error!(code = ?e.code, "cannot start the background sync: {}", e.message);
            }
            app.manage(state);
            Ok(())
        })
        .build(tauri::generate_context!("tauri.conf.json"))
        .expect("error while building the DentPro window")
        .run(|app, event| {
            // Tauri ends the process without dropping its managed state: close the workstation
            // here, so the database is closed cleanly and the unclean-shutdown marker removed
            // (otherwise every start would run the full integrity check).
            if let tauri::RunEvent::Exit = event
                && let Some(state) = app.try_state::<AppState>()
            {
                *state.workstation.lock() = Err(CoreError::new(ErrorCode::Internal, "the window is closing"));
            }
        });
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_bindings_match_the_rust_types() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        super::export_bindings(&fresh).unwrap();
        let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings.ts");
        assert_eq!(
            std::fs::read_to_string(committed).unwrap_or_default(),
            std::fs::read_to_string(fresh).unwrap(),
            "ui/src/bindings.ts is stale: run `cargo run -- export-bindings`"
        );
    }

    /// Architecture invariant: payload types are not IPC types. No signed payload (a type the
    /// registry decodes) is exported to the UI, so a screen's types can change while every
    /// payload keeps its JSON.
    #[test]
    fn no_payload_type_crosses_ipc() {
        let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src");
        let bindings = std::fs::read_to_string(ui.join("bindings.ts")).unwrap();
        let exported: std::collections::BTreeSet<&str> = bindings
            .lines()
            .filter_map(|l| l.strip_prefix("export type "))
            .filter_map(|l| l.split([' ', '<', '=']).next())
            .collect();
        assert!(
            exported.contains("PatientInput"),
            "the export lists the IPC types"
        );
        for entry in dentpro_core::registry::KINDS {
            let path = (entry.payload_type)();
            let name = path.rsplit("::").next().unwrap();
            assert!(
                !exported.contains(name),
                "{path} (payload of {}) is exported to the UI: give the command its own view type",
                entry.kind
            );
        }
    }

    /// The UI's list of record kinds is the core's registry, and the UI takes it from the
    /// bindings rather than keeping a copy.
    #[test]
    fn the_uis_record_kinds_are_the_registry() {
        let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src");
        let bindings = std::fs::read_to_string(ui.join("bindings.ts")).unwrap();
        let line = bindings
            .lines()
            .find(|l| l.starts_with("export const KNOWN_KINDS = "))
            .expect("bindings.ts exports KNOWN_KINDS");
        let list = line
            .trim_start_matches("export const KNOWN_KINDS = ")
            .trim_end_matches(" as const;");
        let kinds: Vec<String> = serde_json::from_str(list).unwrap();
        assert_eq!(kinds, dentpro_core::registry::kind_names());
        let audit = std::fs::read_to_string(ui.join("auditFormat.ts")).unwrap();
        assert!(
            audit.contains(r#"export { KNOWN_KINDS } from "./bindings";"#),
            "auditFormat.ts re-exports the generated list"
        );
    }
}
