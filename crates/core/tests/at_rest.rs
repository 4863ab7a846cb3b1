//! The workstation's files at rest (issue 9): the database is encrypted, no patient name is in
//! plain text anywhere in the data dir, a data dir of the previous (plain) version is encrypted
//! in place with nothing lost, and the data dir is readable by its owner only.

mod common;

use common::*;
use dentpro_core::ErrorCode;
use dentpro_core::audit;
use dentpro_core::demo::demo_patient;
use rusqlite::Connection;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Distinctive names, Latin and Arabic, found nowhere else in the app.
const LATIN: &str = "Zebulon Quixmorland";
const ARABIC: &str = "زبيدة القرطبي";

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// `needle` as UTF-8, UTF-16LE and UTF-16BE bytes.
fn encodings(needle: &str) -> Vec<(&'static str, Vec<u8>)> {
    let units: Vec<u16> = needle.encode_utf16().collect();
    vec![
        ("UTF-8", needle.as_bytes().to_vec()),
        ("UTF-16LE", units.iter().flat_map(|u| u.to_le_bytes()).collect()),
        ("UTF-16BE", units.iter().flat_map(|u| u.to_be_bytes()).collect()),
    ]
}

/// Every (file, encoding, needle) where a needle is found in plain text under `dir`.
fn plain_text_hits(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut hits = Vec::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in needles {
            for (encoding, pattern) in encodings(needle) {
                if bytes.windows(pattern.len()).any(|w| w == pattern.as_slice()) {
                    hits.push(format!("{} ({encoding}): {needle}", file.display()));
                }
            }
        }
    }
    hits
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/v0-plain/workstation")
}

/// A copy of the plain data dir made by the previous version (its key file made private again:
/// git keeps no modes).
fn plain_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), dir.path());
    std::fs::set_permissions(
        dir.path().join("device.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    dir
}

#[test]
fn no_patient_name_is_in_plain_text_anywhere_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, desk) = set_up_desk(dir.path(), &clock);
    let mut ids = Vec::new();
    for i in 0..30 {
        let mut input = demo_patient(i);
        if i % 10 == 3 {
            input.name_en = format!("{LATIN} {i}");
            input.name_ar = format!("{ARABIC} {i}");
        }
        ids.push(ws.patients().register(&desk.session_id, &input).unwrap().id);
    }
    ws.patients().open(&desk.session_id, &ids[3]).unwrap();
    // While the app runs (WAL and SHM beside the database, the anchor just written)...
    let hits = plain_text_hits(dir.path(), &[LATIN, ARABIC]);
    assert!(hits.is_empty(), "patient names in plain text: {hits:?}");
    assert!(dir.path().join(format!("{DB_FILE}-wal")).exists());
    // ...and after it closed.
    drop(ws);
    let hits = plain_text_hits(dir.path(), &[LATIN, ARABIC]);
    assert!(hits.is_empty(), "patient names in plain text: {hits:?}");
    // The names are there for whoever holds the key.
    let conn = open_db(dir.path());
    assert_eq!(
        count(
            &conn,
            &format!(
                "SELECT count(*) FROM patients WHERE name_en LIKE '{LATIN}%' AND name_ar LIKE '{ARABIC}%'"
            )
        ),
        3
    );
}

#[test]
fn the_scan_finds_names_in_a_data_dir_of_the_previous_version() {
    // The scan itself works: the plain fixture shows its demo patients' names in the database
    // and in the anchor file, which copied the head record.
    let conn = Connection::open(fixture().join(DB_FILE)).unwrap();
    let (en, ar): (String, String) = conn
        .query_row("SELECT name_en, name_ar FROM patients LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let hits = plain_text_hits(&fixture(), &[&en, &ar]);
    assert!(hits.iter().any(|h| h.contains(DB_FILE)), "{hits:?}");
}

#[test]
fn the_database_file_is_not_readable_as_sqlite_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    drop(set_up(dir.path(), &clock));
    let path = dir.path().join(DB_FILE);
    let header = &std::fs::read(&path).unwrap()[..16];
    assert_ne!(header, b"SQLite format 3\0");
    let conn = Connection::open(&path).unwrap();
    let err = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))
        .unwrap_err();
    assert_eq!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase),
        "{err}"
    );
    // Nor with another key.
    let other = dentpro_core::store::open_keyed(&path, &dentpro_core::store::DbKey::random()).unwrap();
    assert!(
        other
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))
            .is_err()
    );
    // With its own it is.
    assert!(count(&open_db(dir.path()), "SELECT count(*) FROM records") > 0);
}

/// Every record's hash in local order, and the patients' names.
fn contents(conn: &Connection) -> (Vec<Vec<u8>>, Vec<String>) {
    let hashes = conn
        .prepare("SELECT hash FROM records ORDER BY local_index")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names = conn
        .prepare("SELECT name_en || '/' || name_ar FROM patients ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (hashes, names)
}

#[test]
fn a_plain_data_dir_of_the_previous_version_is_encrypted_in_place_with_nothing_lost() {
    let dir = plain_copy();
    let db = dir.path().join(DB_FILE);
    let before = contents(&Connection::open(&db).unwrap());
    assert_eq!(before.0.len(), 18);
    assert_eq!(before.1.len(), 5);
    // A crash image of the old version: a committed write still in its WAL, and a half-done
    // export of an earlier, interrupted encryption.
    let wal = tempfile::tempdir().unwrap();
    {
        let live = Connection::open(&db).unwrap();
        live.pragma_update(None, "journal_mode", "WAL").unwrap();
        live.execute("INSERT INTO meta (key, value) VALUES ('in_the_wal', 'yes')", [])
            .unwrap();
        for suffix in ["", "-wal"] {
            std::fs::copy(
                dir.path().join(format!("{DB_FILE}{suffix}")),
                wal.path().join(format!("{DB_FILE}{suffix}")),
            )
            .unwrap();
        }
    }
    for suffix in ["", "-wal"] {
        std::fs::copy(
            wal.path().join(format!("{DB_FILE}{suffix}")),
            dir.path().join(format!("{DB_FILE}{suffix}")),
        )
        .unwrap();
    }
    assert!(
        std::fs::metadata(dir.path().join(format!("{DB_FILE}-wal")))
            .unwrap()
            .len()
            > 0
    );
    std::fs::write(
        dir.path().join(format!("{DB_FILE}.encrypting")),
        b"half an export",
    )
    .unwrap();
    let names: Vec<String> = before
        .1
        .iter()
        .flat_map(|n| n.split('/').map(str::to_owned))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert!(!plain_text_hits(dir.path(), &names).is_empty());

    // The first open encrypts it.
    let clock = clock();
    let ws = open(dir.path(), &clock).unwrap();
    assert_eq!(ws.ledger().head().seq, 18, "no new chain: the old one goes on");
    drop(ws);
    assert_ne!(&std::fs::read(&db).unwrap()[..16], b"SQLite format 3\0");
    assert!(!dir.path().join(format!("{DB_FILE}.encrypting")).exists());
    let conn = open_db(dir.path());
    assert_eq!(contents(&conn), before, "the same records and patients");
    assert_eq!(
        dentpro_core::store::meta_get(&conn, "in_the_wal")
            .unwrap()
            .as_deref(),
        Some("yes"),
        "what was in the old WAL is kept"
    );
    let report = audit::verify(&conn, Some(dir.path()), Some(&device_id_of(dir.path()))).unwrap();
    assert!(report.ok, "{report:?}");
    assert!(report.anchor.starts_with("ok"), "{}", report.anchor);
    drop(conn);
    // Nothing of a patient is left in plain text: not in the database, nor in the anchor file
    // (which copied the head record in that version).
    let hits = plain_text_hits(dir.path(), &names);
    assert!(hits.is_empty(), "{hits:?}");
    // It opens again (now encrypted) and goes on.
    let (mut ws, _) = (open(dir.path(), &clock).unwrap(), ());
    ws.login("admin", "demo-pass-1").unwrap();
}

#[test]
fn the_data_dir_is_0700_and_every_file_in_it_0600() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("new-data-dir");
    let clock = clock();
    let (mut ws, admin) = set_up(&dir, &clock);
    ws.patients()
        .register(&admin.session_id, &demo_patient(1))
        .unwrap();
    let check = |dir: &Path| {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
        let files = files_under(dir);
        for name in ["device.json", "device.key", "chain.head", DB_FILE] {
            assert!(files.contains(&dir.join(name)), "{name} in {files:?}");
        }
        for file in files {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    };
    // While open (WAL and SHM present) and after.
    assert!(dir.join(format!("{DB_FILE}-wal")).exists());
    check(&dir);
    drop(ws);
    check(&dir);
    // A data dir of the previous version (0755, files 0644) is narrowed at open.
    let old = plain_copy();
    std::fs::set_permissions(old.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in ["device.json", "chain.head", DB_FILE] {
        std::fs::set_permissions(old.path().join(f), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    drop(open(old.path(), &clock).unwrap());
    check(old.path());
}

#[test]
fn a_device_key_file_others_can_read_is_refused_naming_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    drop(set_up(dir.path(), &clock));
    let key = dir.path().join("device.key");
    for loose in [0o644, 0o640, 0o604, 0o660] {
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(loose)).unwrap();
        let err = assert_code(open(dir.path(), &clock).map(drop), ErrorCode::KeyStorage);
        assert!(
            err.message.contains(&key.display().to_string()),
            "{}",
            err.message
        );
        assert!(err.message.contains("chmod 600"), "{}", err.message);
        assert_eq!(
            err.details.get("reason").map(String::as_str),
            Some("key_file_permissions")
        );
    }
    // Fixed as it says, it opens.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    drop(open(dir.path(), &clock).unwrap());
    // The fixture as git checks it out (0644): refused too.
    let plain = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), plain.path());
    std::fs::set_permissions(
        plain.path().join("device.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert_code(open(plain.path(), &clock).map(drop), ErrorCode::KeyStorage);
}

/// Runs `script` in Python with SQLCipher's own Python binding (`sqlcipher3`: SQLCipher 4 with
/// OpenSSL, built by others), `argv[1..]` = `args`; its stdout.
fn independent_sqlcipher(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (scripts/setup.sh installs it with the `sqlcipher3-binary` package)");
    assert!(
        out.status.success(),
        "python3 failed (scripts/setup.sh installs `sqlcipher3-binary`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Opens argv[1] with the raw key argv[2] in the page format argv[3] (HMAC) and argv[4] (page
/// size) and prints the patients' names, or `file is not a database` when the pages do not
/// authenticate.
const READ_PATIENTS: &str = r#"
import sys, sqlcipher3
c = sqlcipher3.connect(sys.argv[1])
c.execute(f"PRAGMA key = \"x'{sys.argv[2]}'\"")
c.execute(f"PRAGMA cipher_hmac_algorithm = {sys.argv[3]}")
c.execute(f"PRAGMA cipher_page_size = {sys.argv[4]}")
try:
    for (name,) in c.execute("SELECT name_en FROM patients ORDER BY name_en"):
        print(name)
except sqlcipher3.DatabaseError as e:
    print(e)
"#;

#[test]
fn an_independent_sqlcipher_reads_the_workstation_database_in_its_page_format() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, desk) = set_up_desk(dir.path(), &clock);
    let mut input = demo_patient(1);
    input.name_en = LATIN.into();
    ws.patients().register(&desk.session_id, &input).unwrap();
    drop(ws);
    let db = dir.path().join(DB_FILE);
    let key = db_key(dir.path()).to_hex();
    let db = db.to_str().unwrap();
    // Written through DentPro's page cipher: SQLCipher 4's cipher, HMAC-SHA256, 2 KiB pages.
    assert_eq!(
        independent_sqlcipher(READ_PATIENTS, &[db, &key, "HMAC_SHA256", "2048"]).trim(),
        LATIN
    );
    // Not SQLCipher 4's defaults: the format is the one documented.
    for (hmac, page) in [
        ("HMAC_SHA512", "4096"),
        ("HMAC_SHA256", "4096"),
        ("HMAC_SHA512", "2048"),
    ] {
        assert_eq!(
            independent_sqlcipher(READ_PATIENTS, &[db, &key, hmac, page]).trim(),
            "file is not a database",
            "{hmac} {page}"
        );
    }
}

#[test]
fn a_database_an_independent_sqlcipher_wrote_in_sqlcipher_4_defaults_is_re_encrypted_at_first_open() {
    // The format of the previous version: SQLCipher 4's defaults, written here by SQLCipher's
    // own Python binding, with a WAL left beside it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("earlier.sqlite3");
    let key = dentpro_core::store::DbKey::random();
    let (p, k) = (path.to_str().unwrap(), key.to_hex());
    independent_sqlcipher(
        r#"
import sys, sqlcipher3
c = sqlcipher3.connect(sys.argv[1])
c.execute(f"PRAGMA key = \"x'{sys.argv[2]}'\"")
c.execute("PRAGMA journal_mode = WAL")
c.execute("PRAGMA wal_autocheckpoint = 0")
c.execute("CREATE TABLE patients (name_en TEXT)")
c.executemany("INSERT INTO patients VALUES (?)", [(f"patient {i:03}",) for i in range(200)])
c.commit()
c.execute("PRAGMA user_version = 13")
c.commit()
import shutil; shutil.copy(sys.argv[1] + "-wal", sys.argv[1] + "-wal.kept")
"#,
        &[p, &k],
    );
    // The connection closed and checkpointed; put its WAL back as a crash would leave it.
    std::fs::rename(format!("{p}-wal.kept"), format!("{p}-wal")).unwrap();
    let before = std::fs::read(&path).unwrap();

    // Reading it (a backup check) opens it as it is and changes nothing.
    let ro = dentpro_core::store::open_keyed_read_only(&path, &key).unwrap();
    assert_eq!(count(&ro, "SELECT count(*) FROM patients"), 200);
    drop(ro);
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // The first writable open re-encrypts it in the current format, with nothing lost.
    let conn = dentpro_core::store::open_keyed(&path, &key).unwrap();
    assert_eq!(count(&conn, "SELECT count(*) FROM patients"), 200);
    assert_eq!(count(&conn, "PRAGMA user_version"), 13);
    drop(conn);
    assert!(!Path::new(&format!("{p}.encrypting")).exists());
    let names = independent_sqlcipher(READ_PATIENTS, &[p, &k, "HMAC_SHA256", "2048"]);
    assert_eq!(names.lines().count(), 200, "{names}");
    assert_eq!(names.lines().next(), Some("patient 000"));
    assert_eq!(
        independent_sqlcipher(READ_PATIENTS, &[p, &k, "HMAC_SHA512", "4096"]).trim(),
        "file is not a database"
    );
}
