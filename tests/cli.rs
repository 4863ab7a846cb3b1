//! The `dentpro` command line on real data dirs: demo, verification, tampering with the keyed
//! SQL tool (`dentpro db sql`: the database is encrypted, so `sqlite3` cannot read it), the
//! device binding, and the OS keyring.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dentpro");

fn dentpro(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("dentpro runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn demo(dir: &Path, key_store: &str) -> Output {
    let d = dir.to_str().unwrap();
    dentpro(&[
        "demo",
        "--data-dir",
        d,
        "--key-store",
        key_store,
        "--patients",
        "30",
    ])
}

fn verify(dir: &Path) -> Output {
    dentpro(&["audit", "verify", "--data-dir", dir.to_str().unwrap()])
}

/// `dentpro db sql`: SQL on the data dir's database with its key, outside the app.
fn db_sql(dir: &Path, sql: &str) -> Output {
    dentpro(&["db", "sql", "--data-dir", dir.to_str().unwrap(), sql])
}

fn sql_ok(dir: &Path, sql: &str) -> String {
    let out = db_sql(dir, sql);
    assert!(out.status.success(), "db sql failed on: {sql}: {}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn demo_then_verify_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), "file");
    assert!(out.status.success(), "{}", text(&out));
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("OK: the chain and the tables are intact"),
        "{}",
        text(&out)
    );
}

#[test]
fn editing_a_record_outside_the_app_is_detected_and_named() {
    let dir = tempfile::tempdir().unwrap();
    assert!(demo(dir.path(), "file").status.success());
    // Triggers refuse the edit...
    let refused = db_sql(
        dir.path(),
        "UPDATE records SET payload = CAST('{}' AS BLOB) WHERE seq = 20;",
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("append-only"), "{}", text(&refused));
    // ...so a tamperer drops them first.
    sql_ok(
        dir.path(),
        "DROP TRIGGER records_no_update; \
         UPDATE records SET payload = CAST(replace(CAST(payload AS TEXT), 'Ahmad', 'Ahmed') AS BLOB) \
         WHERE seq = (SELECT min(seq) FROM records WHERE kind = 'patient.registered' \
                      AND CAST(payload AS TEXT) LIKE '%Ahmad%');",
    );
    let first_ahmad = edited_seq(dir.path());
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = text(&out);
    assert!(
        report.contains(&format!("first bad record: seq {first_ahmad} ")),
        "{report}"
    );
    assert!(report.contains("record edited"), "{report}");
}

/// The seq of the edited record, read back with the SQL tool.
fn edited_seq(dir: &Path) -> i64 {
    sql_ok(
        dir,
        "SELECT min(seq) FROM records WHERE kind = 'patient.registered' \
         AND CAST(payload AS TEXT) LIKE '%Ahmed%';",
    )
    .trim()
    .parse()
    .expect("a seq")
}

#[test]
fn cutting_records_off_the_end_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    assert!(demo(dir.path(), "file").status.success());
    sql_ok(
        dir.path(),
        "DROP TRIGGER records_no_delete; \
         DELETE FROM records WHERE local_index > (SELECT max(local_index) - 3 FROM records);",
    );
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("are missing"), "{}", text(&out));
}

#[test]
fn editing_a_table_behind_the_apps_back_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    assert!(demo(dir.path(), "file").status.success());
    sql_ok(
        dir.path(),
        "UPDATE users SET role = 'admin' WHERE username = 'cashier';",
    );
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("table users differs from the records"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_database_opened_with_another_devices_key_is_refused() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert!(demo(a.path(), "file").status.success());
    assert!(demo(b.path(), "file").status.success());
    // Put device A's database beside device B's key.
    std::fs::copy(a.path().join("dentpro.sqlite3"), b.path().join("dentpro.sqlite3")).unwrap();
    for ext in ["sqlite3-wal", "sqlite3-shm"] {
        let _ = std::fs::remove_file(b.path().join(format!("dentpro.{ext}")));
    }
    let out = demo(b.path(), "file");
    assert!(!out.status.success());
    assert!(text(&out).contains("belongs to another device"), "{}", text(&out));
}

#[test]
fn a_data_dir_open_in_the_app_is_refused_clearly_then_verifies_once_closed() {
    use dentpro_core::clock::SystemClock;
    use dentpro_core::device::KeyStorePreference;
    use dentpro_core::workstation::{OpenOptions, Workstation};
    let dir = tempfile::tempdir().unwrap();
    assert!(demo(dir.path(), "file").status.success());
    let app = Workstation::open(OpenOptions {
        data_dir: dir.path().to_path_buf(),
        key_store: KeyStorePreference::File,
        clock: std::sync::Arc::new(SystemClock),
    })
    .unwrap();
    for out in [
        verify(dir.path()),
        demo(dir.path(), "file"),
        db_sql(dir.path(), "SELECT count(*) FROM records"),
    ] {
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("open in another DentPro window or tool"),
            "{}",
            text(&out)
        );
    }
    drop(app);
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn unknown_key_store_and_missing_data_dir_are_clear_errors() {
    let out = dentpro(&["demo", "--data-dir", "/tmp/x", "--key-store", "vault"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("key_store"), "{}", text(&out));
    let out = dentpro(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("--data-dir is required"), "{}", text(&out));
}

/// Needs a D-Bus session with an unlocked Secret Service (gnome-keyring), which the test
/// script provides; `DENTPRO_TEST_KEYRING=1` says it is there.
#[test]
fn the_device_key_lives_in_the_os_keyring_when_there_is_one() {
    if std::env::var("DENTPRO_TEST_KEYRING").as_deref() != Ok("1") {
        eprintln!("SKIPPED: run inside scripts/test.sh (D-Bus + unlocked gnome-keyring)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = demo(dir.path(), "auto");
    assert!(out.status.success(), "{}", text(&out));
    let device: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("device.json")).unwrap()).unwrap();
    assert_eq!(device["storage"], "keyring");
    assert!(
        !dir.path().join("device.key").exists(),
        "no key file when the keyring is used"
    );
    assert!(verify(dir.path()).status.success());
}

#[test]
fn without_a_keyring_service_auto_falls_back_to_a_logged_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "demo",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--patients",
            "1",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("falling back to a 0600 key file"),
        "{}",
        text(&out)
    );
    let device: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("device.json")).unwrap()).unwrap();
    assert_eq!(device["storage"], "file");
    assert!(
        device["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("no usable OS keyring")
    );
    // Asking for the keyring explicitly where there is none is an error, not a silent file.
    let other = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "demo",
            "--data-dir",
            other.path().to_str().unwrap(),
            "--key-store",
            "keyring",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!other.path().join("device.key").exists());
}

/// A copy of the workstation data dir of `tests/fixtures/<version>`, to open and change.
fn copy_of_fixture(version: &str) -> tempfile::TempDir {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(version)
        .join("workstation");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&fixture).unwrap() {
        let from = entry.unwrap().path();
        std::fs::copy(&from, dir.path().join(from.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn a_plain_data_dir_of_the_previous_version_verifies_before_and_after_db_sql_encrypts_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = copy_of_fixture("v0-plain");
    let key = dir.path().join("device.key");
    // As git checks it out, the key file is 0644: refused, with the fix.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("chmod 600"), "{}", text(&out));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Read-only verification reads the plain database as it is.
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("records checked: 18"), "{}", text(&out));
    // The SQL tool's open encrypts it, with nothing lost.
    let counts = sql_ok(
        dir.path(),
        "SELECT count(*) FROM records; SELECT count(*), count(DISTINCT name_ar) FROM patients;",
    );
    assert_eq!(counts, "18\n5|5\n");
    let db = std::fs::read(dir.path().join("dentpro.sqlite3")).unwrap();
    assert!(!db.starts_with(b"SQLite format 3\0"));
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("records checked: 18"), "{}", text(&out));
    assert!(
        text(&out).contains("OK: the chain and the tables are intact"),
        "{}",
        text(&out)
    );
}

/// A data dir encrypted in SQLCipher 4's default page format (every encrypted data dir before
/// the page format changed) is read as it is, then re-encrypted by the first writable open;
/// finding its format tries the current one first, which fails by design: that try must not
/// reach stderr as a SQLCipher `ERROR` line, which reads like damage.
#[test]
fn an_earlier_page_format_is_read_and_re_encrypted_without_sqlcipher_errors_on_stderr() {
    use std::os::unix::fs::PermissionsExt;
    let dir = copy_of_fixture("v1-issue9");
    std::fs::set_permissions(
        dir.path().join("device.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let quiet = |out: &Output| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("ERROR CORE") && !stderr.contains("error decrypting"),
            "{stderr}"
        );
    };
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", text(&out));
    quiet(&out);
    let before = std::fs::read(dir.path().join("dentpro.sqlite3")).unwrap();
    let out = db_sql(dir.path(), "SELECT count(*) FROM records;");
    assert!(out.status.success(), "{}", text(&out));
    quiet(&out);
    assert_ne!(
        std::fs::read(dir.path().join("dentpro.sqlite3")).unwrap(),
        before,
        "re-encrypted"
    );
    let out = verify(dir.path());
    assert!(out.status.success(), "{}", text(&out));
    quiet(&out);
}

/// A copy of the binary that any user may run, in `dir`: the build's own may sit under a folder
/// only root can enter (a checkout in /root), which would refuse `nobody` before DentPro says
/// anything.
fn bin_for_anyone(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.join("dentpro");
    std::fs::copy(BIN, &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Runs the real binary as the unprivileged user `nobody` (the tests run as root, who may read
/// anything), with the key in a file (no keyring for that user).
fn dentpro_as_nobody(bin: &Path, args: &[&str]) -> Output {
    Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(bin)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("DENTPRO_KEY_STORE", "file")
        .output()
        .expect("setpriv runs")
}

#[test]
fn a_data_dir_this_user_may_not_use_is_said_plainly_and_nothing_is_lost() {
    let bin_dir = tempfile::tempdir().unwrap();
    let bin = bin_for_anyone(bin_dir.path());
    let root = tempfile::tempdir().unwrap();
    // Root's, and no one else's (as the data dir's parent is on a multi-user machine).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let dir = root.path().join("desk");
    let d = dir.to_str().unwrap();
    let out = demo(&dir, "file");
    assert!(out.status.success(), "{}", text(&out));
    // Read through the keyed SQL tool, as root (the owner of the data dir).
    let records = || sql_ok(&dir, "SELECT count(*) FROM records");
    let before = records();

    for args in [
        vec!["audit", "verify", "--data-dir", d],
        vec!["demo", "--data-dir", d, "--patients", "3"],
        vec!["sync", "--data-dir", d],
    ] {
        let out = dentpro_as_nobody(&bin, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(
            text(&out).contains("no permission to use the data folder"),
            "{args:?}: {}",
            text(&out)
        );
        assert!(!text(&out).contains("not found"), "{args:?}: {}", text(&out));
    }
    // A new data dir inside a folder this user may not enter: the same words.
    let inner = root.path().join("desk").join("new");
    let out = dentpro_as_nobody(
        &bin,
        &["demo", "--data-dir", inner.to_str().unwrap(), "--patients", "3"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no permission"), "{}", text(&out));

    // Nothing was changed, and it all works once the user has permission.
    assert_eq!(records(), before);
    assert!(!dir.join("dentpro.open").exists());
    let out = verify(&dir);
    assert!(out.status.success(), "{}", text(&out));
    let status = Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(root.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = dentpro_as_nobody(&bin, &["audit", "verify", "--data-dir", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("OK: the chain and the tables are intact"),
        "{}",
        text(&out)
    );
}
