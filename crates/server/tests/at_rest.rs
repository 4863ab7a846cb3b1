//! The branch server's files at rest (issue 9): its database is encrypted with a key kept in a
//! 0600 key file (in the data dir, or outside it where the service manager says), no patient
//! name is in plain text anywhere in its data dir, a plain data dir of the previous version is
//! encrypted at its first open, and everything is readable by its owner only.

mod support;

use dentpro_server::store::{DB_FILE, DataDir};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

const SERVER: &str = env!("CARGO_BIN_EXE_dentpro-server");

fn server(dir: &Path, args: &[&str]) -> Output {
    Command::new(SERVER)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("DENTPRO_SERVER_DB_KEY_FILE")
        .output()
        .expect("run dentpro-server")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

fn is_plain_sqlite(path: &Path) -> bool {
    std::fs::read(path).unwrap().starts_with(b"SQLite format 3\0")
}

fn assert_private(dir: &Path) {
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    for file in files_under(dir) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[test]
fn init_makes_a_private_data_dir_with_an_encrypted_database_and_a_0600_key_file() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("srv");
    let out = server(&dir, &["init", "--branch-name", "Test Clinic"]);
    assert!(out.status.success(), "{}", text(&out));
    let names: Vec<String> = files_under(&dir)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in [
        "db.key",
        DB_FILE,
        "server.key",
        "server.json",
        "tls-key.pem",
        "tls-cert.pem",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert_private(&dir);
    assert!(!is_plain_sqlite(&dir.join(DB_FILE)));
    let raw = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
    assert!(
        raw.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))
            .is_err()
    );
    // Running: WAL and SHM are 0600 too.
    let running = TestServer::start(&root.path().join("running"));
    running.ticket(dentpro_core::devices::DeviceKind::Doctor);
    assert!(running.dir.join(format!("{DB_FILE}-wal")).exists());
    assert_private(&running.dir);
}

#[test]
fn the_database_key_file_can_live_outside_the_data_dir() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("srv");
    let key_file = root.path().join("credentials-db.key");
    let key_arg = key_file.to_str().unwrap();
    let out = server(
        &dir,
        &["--db-key-file", key_arg, "init", "--branch-name", "Test Clinic"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!dir.join("db.key").exists(), "the key is not in the data dir");
    assert_eq!(mode(&key_file), 0o600);
    // The data dir alone does not open, and says what is missing and how to give it.
    let out = server(&dir, &["devices"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("--db-key-file"), "{}", text(&out));
    assert!(
        !dir.join("db.key").exists(),
        "no new key is made for an encrypted database"
    );
    // With the key file (option or environment, as a service manager gives it) it does.
    let out = server(&dir, &["--db-key-file", key_arg, "devices"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = Command::new(SERVER)
        .arg("--data-dir")
        .arg(&dir)
        .arg("devices")
        .env("DENTPRO_SERVER_DB_KEY_FILE", &key_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // A wrong key is a clear error, not "file is not a database".
    std::fs::remove_file(&key_file).unwrap();
    std::fs::write(&key_file, "11".repeat(32)).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = server(&dir, &["--db-key-file", key_arg, "devices"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("cannot be read with the key given"),
        "{}",
        text(&out)
    );
}

#[test]
fn key_files_others_can_read_are_refused_naming_the_file_and_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("srv");
    assert!(
        server(&dir, &["init", "--branch-name", "Test Clinic"])
            .status
            .success()
    );
    for name in ["db.key", "server.key", "tls-key.pem"] {
        let file = dir.join(name);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = server(&dir, &["serve", "--listen", "127.0.0.1:0"]);
        assert!(!out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(&file.display().to_string()), "{}", text(&out));
        assert!(text(&out).contains("chmod 600"), "{}", text(&out));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert!(server(&dir, &["devices"]).status.success());
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/v0-plain/server")
}

#[test]
fn a_plain_server_data_dir_of_the_previous_version_is_encrypted_at_its_first_open() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("srv");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in files_under(&fixture()) {
        let to = dir.join(file.file_name().unwrap());
        std::fs::copy(&file, &to).unwrap();
        // As the previous version left them: keys 0600, the rest 0644.
        let name = to.file_name().unwrap().to_string_lossy().into_owned();
        let mode = if name.ends_with("key") || name.ends_with("key.pem") {
            0o600
        } else {
            0o644
        };
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let before: Vec<(String, i64, Vec<u8>)> = {
        let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
        let mut stmt = conn
            .prepare("SELECT device_id, seq, hash FROM records ORDER BY local_index")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(before.len(), 18);
    let out = server(&dir, &["devices"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("reception"), "{}", text(&out));
    assert!(!is_plain_sqlite(&dir.join(DB_FILE)));
    assert_private(&dir);
    let conn = DataDir::new(&dir).open_db().unwrap();
    let after: Vec<(String, i64, Vec<u8>)> = conn
        .prepare("SELECT device_id, seq, hash FROM records ORDER BY local_index")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(after, before);
    assert_eq!(count(&conn, "SELECT count(*) FROM record_log"), 18);
    drop(conn);
    // And it serves.
    let out = server(&dir, &["alerts"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn no_patient_name_is_in_plain_text_in_the_server_data_dir() {
    let mut b = Branch::new();
    let latin = "Quillon Vexbramwell";
    let arabic = "مرجانة الطنطاوي";
    {
        let mut ws = b.reception.ws();
        let s = ws.login("rita", PASSWORD).unwrap().session_id;
        for i in 0..5 {
            let mut p = patient(&format!("{latin} {i}"), &format!("07900000{i:02}"));
            p.name_ar = format!("{arabic} {i}");
            ws.patients().register(&s, &p).unwrap();
        }
    }
    b.reception.sync().unwrap();
    b.doctor.sync().unwrap();
    let needles = [latin, arabic];
    let scan = |dir: &Path| -> Vec<String> {
        let mut hits = Vec::new();
        for file in files_under(dir) {
            let bytes = std::fs::read(&file).unwrap();
            for needle in needles {
                let units: Vec<u16> = needle.encode_utf16().collect();
                for (enc, pat) in [
                    ("UTF-8", needle.as_bytes().to_vec()),
                    (
                        "UTF-16LE",
                        units.iter().flat_map(|u| u.to_le_bytes()).collect::<Vec<u8>>(),
                    ),
                    ("UTF-16BE", units.iter().flat_map(|u| u.to_be_bytes()).collect()),
                ] {
                    if bytes.windows(pat.len()).any(|w| w == pat.as_slice()) {
                        hits.push(format!("{} ({enc}): {needle}", file.display()));
                    }
                }
            }
        }
        hits
    };
    // The server running (WAL beside its database) and the desks open.
    for dir in [&b.server.dir, &b.reception.dir, &b.doctor.dir] {
        let hits = scan(dir);
        assert!(hits.is_empty(), "{hits:?}");
    }
    // The doctor's desk has them, readable through the app.
    let names = count(
        &b.doctor.db(),
        &format!("SELECT count(*) FROM patients WHERE name_en LIKE '{latin}%'"),
    );
    assert_eq!(names, 5);
    b.server.kill();
    let hits = scan(&b.server.dir);
    assert!(hits.is_empty(), "{hits:?}");
}
