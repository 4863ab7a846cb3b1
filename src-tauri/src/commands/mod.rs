//! Tauri commands, one module per area: each takes the window's session, calls the area's
//! handle in the core (`ws.patients()`, ...), and returns its result. No rule lives here —
//! permissions, validation and records are the core's.
//!
//! Every command runs off the main thread (`async fn`, or `#[tauri::command(async)]` for the
//! blocking ones): a command waiting for the workstation while the sync thread applies a page
//! of a catch-up must not freeze the window. A test below keeps it so, over every file here.

pub mod accounts;
pub mod audit;
pub mod devices;
pub mod doctors;
pub mod patients;
pub mod session;
pub mod settings;
pub mod sync;

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

    /// The commands of `source` that would run on the main thread.
    fn on_main_thread(source: &str) -> (usize, Vec<String>) {
        let lines: Vec<&str> = source.lines().collect();
        let mut commands = 0;
        let mut blocking = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("#[tauri::command") {
                continue;
            }
            commands += 1;
            let signature = lines[i..]
                .iter()
                .find(|l| l.contains("fn "))
                .expect("a command attribute is followed by its fn");
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
        let mut commands = 0;
        for (file, source) in sources() {
            let (n, blocking) = on_main_thread(&source);
            commands += n;
            assert!(
                blocking.is_empty(),
                "{file}: make {blocking:?} `#[tauri::command(async)]`"
            );
        }
        // Every command the builder lists lives in one of these files.
        let listed = include_str!("../lib.rs")
            .split("collect_commands![")
            .nth(1)
            .and_then(|s| s.split(']').next())
            .expect("lib.rs lists the commands")
            .split(',')
            .filter(|c| !c.trim().is_empty())
            .count();
        assert_eq!(
            commands, listed,
            "commands found in src-tauri/src/commands/ vs listed in lib.rs"
        );
    }

    #[test]
    fn the_check_sees_a_blocking_command() {
        let (n, blocking) = on_main_thread("#[tauri::command]\n#[specta::specta]\npub fn f() {}\n");
        assert_eq!((n, blocking.len()), (1, 1));
        let (_, blocking) = on_main_thread("#[tauri::command]\npub async fn f() {}\n");
        assert!(blocking.is_empty());
    }
}
