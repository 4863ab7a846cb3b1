//! Tauri commands, one module per area: each takes the window's session, calls the area's
//! handle in the core (`ws.patients()`, ...), and returns its result. No rule lives here —
//! permissions, validation and records are the core's.
//!
//! Every command runs off the main thread (`async fn`, or `#[tauri::command(async)]` for the
//! blocking ones): a command waiting for the workstation while the sync thread applies a page
//! of a catch-up must not freeze the window. A test below keeps it so, over every file here.

/// Declares the command modules and makes `every_command!()`: `tauri_specta::collect_commands!`
/// over the lists of every area (tauri_specta takes all commands in one macro call: one invoke
/// handler, one bindings file), so `specta_builder()` names no command.
macro_rules! areas {
    ($($area:ident),* $(,)?) => {
        $(pub mod $area;)*

        macro_rules! every_command {
            () => { $crate::commands::gather!([$($area)*] []) };
        }
        pub(crate) use every_command;
    };
}

/// Asks each area in turn for its list (its `commands!` macro answers with `@answer`) and
/// hands all of them, as `commands::<area>::<command>`, to `collect_commands!`.
macro_rules! gather {
    ([] [$($done:tt)*]) => { tauri_specta::collect_commands![$($done)*] };
    ([$area:ident $($rest:ident)*] [$($done:tt)*]) => {
        $crate::commands::$area::commands!([$($rest)*] [$($done)*] $area)
    };
    (@answer [$($rest:ident)*] [$($done:tt)*] $area:ident $($command:ident),* $(,)?) => {
        $crate::commands::gather!([$($rest)*] [$($done)* $(commands::$area::$command,)*])
    };
}
pub(crate) use gather;

// The areas: one line each. Declares `<area>.rs` and lists it for `every_command!`.
areas! { accounts, audit, devices, doctors, patients, session, settings, sync }

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The commands' sources: every `.rs` file of this directory.
    fn sources() -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/src/commands");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
            .collect()
    }

    /// The commands of `source` (their names) and those that would run on the main thread.
    fn on_main_thread(source: &str) -> (Vec<String>, Vec<String>) {
        let lines: Vec<&str> = source.lines().collect();
        let mut commands = Vec::new();
        let mut blocking = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("#[tauri::command") {
                continue;
            }
            let signature = lines[i..]
                .iter()
                .find(|l| l.contains("fn "))
                .expect("a command attribute is followed by its fn");
            let name = signature.split("fn ").nth(1).unwrap_or_default();
            let end = name
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            commands.push(name[..end].to_owned());
            if !(line.contains("(async)") || signature.contains("async fn")) {
                blocking.push(signature.trim().to_owned());
            }
        }
        (commands, blocking)
    }

    /// A plain `#[tauri::command]` on a blocking `fn` runs on the main thread and would freeze
    /// the window whenever the sync thread holds the workstation.
    #[test]
    fn no_command_runs_on_the_main_thread() {
        for (file, source) in sources() {
            let (_, blocking) = on_main_thread(&source);
            assert!(
                blocking.is_empty(),
                "{file}: make {blocking:?} `#[tauri::command(async)]`"
            );
        }
    }

    /// The builder (what the window serves and the bindings hold) has exactly the commands of
    /// these files: one missing from its area's `commands!` list, or an area missing from
    /// `areas!`, fails here.
    #[test]
    fn the_builder_has_every_command_of_every_area() {
        let found: std::collections::BTreeSet<String> =
            sources().iter().flat_map(|(_, s)| on_main_thread(s).0).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bindings.ts");
        crate::export_bindings(&path).unwrap();
        let bindings = std::fs::read_to_string(path).unwrap();
        let served: std::collections::BTreeSet<String> = bindings
            .split("TAURI_INVOKE(\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .map(str::to_owned)
            .collect();
        assert!(found.len() > 40, "the files' commands are found: {found:?}");
        let unlisted: Vec<_> = found.difference(&served).collect();
        assert!(
            unlisted.is_empty(),
            "{unlisted:?} are not served: add them to their area's `commands!` list"
        );
        assert_eq!(found, served);
    }

    #[test]
    fn the_check_sees_a_blocking_command() {
        let (n, blocking) = on_main_thread("#[tauri::command]\n#[specta::specta]\npub fn f() {}\n");
        assert_eq!((n, blocking.len()), (vec!["f".to_owned()], 1));
        let (_, blocking) = on_main_thread("#[tauri::command]\npub async fn f() {}\n");
        assert!(blocking.is_empty());
    }
}
