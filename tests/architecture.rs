//! ARCHITECTURE.md is the map a newcomer reads first: every path it names must exist.

use std::path::Path;

/// Backquoted words that look like repository paths (a slash, or a file name with an
/// extension we keep), with `<placeholders>` and globs left out.
fn named_paths(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, part) in doc.split('`').enumerate() {
        if i % 2 == 0 || part.contains(char::is_whitespace) || part.contains(['<', '*', '{', '$']) {
            continue;
        }
        let file_like = [".rs", ".sql", ".json", ".md", ".sh", ".ts", ".tsx", ".toml"]
            .iter()
            .any(|ext| part.ends_with(ext));
        let dir_like = part.ends_with('/') && !part.starts_with("http");
        let rooted = [
            "src-tauri/",
            "crates/",
            "migrations/",
            "ui/",
            "tests/",
            "scripts/",
            ".ci/",
        ]
        .iter()
        .any(|p| part.starts_with(p));
        if rooted && (file_like || dir_like || part.contains('/')) {
            out.push(part.trim_end_matches('/').to_owned());
        }
    }
    out
}

#[test]
fn every_path_architecture_md_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let paths = named_paths(&doc);
    assert!(paths.len() > 10, "found only {paths:?}");
    let missing: Vec<&String> = paths.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}
