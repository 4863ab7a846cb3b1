//! The DentPro desktop shell: Tauri setup, the window's state, and thin commands over
//! `dentpro-core`. The command-line tool (`dentpro audit verify`, `dentpro demo`) shares the
//! binary; see `cli.rs`.

pub mod cli;
mod commands;
pub mod outbox;
pub mod sync;

use dentpro_core::device::KeyStorePreference;
use dentpro_core::ids::SessionId;
use dentpro_core::permissions::{Action, Role};
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

/// The core's lists the UI needs, generated into the bindings as `CORE_LISTS`.
#[derive(serde::Serialize, specta::Type)]
struct CoreLists {
    /// Every record kind, from the core's registry: the audit screen's kind filter.
    known_kinds: Vec<&'static str>,
    /// Every action and role, from the permissions' one declaration: what a session may have,
    /// what a user may be given, and the catalog tests' lists of texts.
    actions: Vec<Action>,
    roles: Vec<Role>,
}

impl CoreLists {
    fn new() -> Self {
        Self {
            known_kinds: dentpro_core::registry::kind_names(),
            actions: Action::iter().collect(),
            roles: Role::iter().collect(),
        }
    }
}

/// The builder of every command the UI may call, also used to export the TypeScript bindings.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        // The lists the UI takes from the core rather than keeping copies (one constant:
        // tauri_specta writes its constants in hash order).
        .constant("CORE_LISTS", CoreLists::new())
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

    /// The list `name` of `CORE_LISTS` in the committed bindings.
    fn exported_list(name: &str) -> Vec<String> {
        let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src");
        let bindings = std::fs::read_to_string(ui.join("bindings.ts")).unwrap();
        let prefix = "export const CORE_LISTS = ";
        let line = bindings
            .lines()
            .find(|l| l.starts_with(prefix))
            .expect("bindings.ts exports CORE_LISTS");
        let lists: serde_json::Value =
            serde_json::from_str(line.trim_start_matches(prefix).trim_end_matches(" as const;")).unwrap();
        serde_json::from_value(lists[name].clone()).unwrap()
    }

    /// A UI source file, which must take `name` from the bindings rather than keep a copy.
    fn takes_from_the_bindings(file: &str, name: &str) {
        let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src");
        let source = std::fs::read_to_string(ui.join(file)).unwrap();
        let taken = format!("= CORE_LISTS.{name};");
        assert!(
            source.contains(&taken),
            "{file} takes {name} from the generated CORE_LISTS"
        );
    }

    /// The UI's list of record kinds is the core's registry, and the UI takes it from the
    /// bindings rather than keeping a copy.
    #[test]
    fn the_uis_record_kinds_are_the_registry() {
        assert_eq!(exported_list("known_kinds"), dentpro_core::registry::kind_names());
        takes_from_the_bindings("auditFormat.ts", "known_kinds");
    }

    /// The UI's actions and roles are the permissions' (a new action needs no UI list edited:
    /// the catalog test then asks for its texts).
    #[test]
    fn the_uis_actions_and_roles_are_the_permissions() {
        use dentpro_core::permissions::{Action, Role};
        let actions: Vec<String> = Action::iter().map(|a| a.as_str().to_owned()).collect();
        assert_eq!(exported_list("actions"), actions);
        let roles: Vec<String> = Role::iter().map(|r| r.as_str().to_owned()).collect();
        assert_eq!(exported_list("roles"), roles);
        takes_from_the_bindings("errors.ts", "actions");
        takes_from_the_bindings("errors.ts", "roles");
    }

    /// Every `CoreError::invalid(field, "<reason>")` of the core has a `reasons.<reason>` text in
    /// English and Arabic (in the shared catalog or an area's): the UI finds its reasons in
    /// the catalogs (`REASONS` in errors.ts), so no hand-kept list stands between the two.
    #[test]
    fn every_reason_the_core_sends_has_en_and_ar_text() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("crates/core/src"), &mut files);
        // The last string literal of each `invalid(...)` call: its reason.
        let mut sent = std::collections::BTreeSet::new();
        for source in &files {
            for call in source.split("invalid(").skip(1) {
                let args = call.split(')').next().unwrap_or_default();
                if let Some(reason) = args.rsplit('"').nth(1).filter(|_| args.ends_with('"')) {
                    sent.insert(reason.to_owned());
                }
            }
        }
        assert!(sent.contains("too_long") && sent.len() > 30, "{sent:?}");
        let ui = root.join("ui/src");
        let mut catalogs = vec![ui.join("i18n")];
        for area in std::fs::read_dir(ui.join("areas")).unwrap() {
            catalogs.push(area.unwrap().path().join("i18n"));
        }
        for lang in ["en", "ar"] {
            let mut texts = std::collections::BTreeSet::new();
            for dir in &catalogs {
                let Ok(json) = std::fs::read_to_string(dir.join(format!("{lang}.json"))) else {
                    continue;
                };
                let catalog: serde_json::Value = serde_json::from_str(&json).unwrap();
                if let Some(reasons) = catalog["reasons"].as_object() {
                    texts.extend(reasons.keys().cloned());
                }
            }
            let missing: Vec<_> = sent.iter().filter(|r| !texts.contains(*r)).collect();
            assert!(missing.is_empty(), "reasons without {lang} text: {missing:?}");
        }
    }
}
