fn main() {
    // The package root is the workspace root (so tauri.conf.json sits at the top level); the
    // capability files live with the shell's sources.
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("src-tauri/capabilities/**/*.json");
    tauri_build::try_build(attributes).expect("tauri build script failed");
}
