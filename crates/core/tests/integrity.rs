//! The workstation's files failing under it: a full disk (SQLite's `max_page_count`), a damaged
//! database after an unclean shutdown, records damaged on disk before a push, and an account
//! row changed with the `sqlite3` tool before a sign-in. Each is a clear, named error and loses
//! nothing. (A data dir without permission is tested with the real binary as an unprivileged
//! user in `tests/cli.rs`.)

mod common;

use common::*;
use dentpro_core::ErrorCode;
use dentpro_core::integrity::OPEN_MARKER;
use dentpro_core::patients::{PatientInput, Sex};
use dentpro_core::permissions::Role;
use std::path::Path;

fn patient(name_en: &str) -> PatientInput {
    PatientInput {
        name_en: name_en.into(),
        name_ar: "مريم".into(),
        date_of_birth: "1985-06-15".into(),
        sex: Sex::Female,
        phone: "0791234567".into(),
        national_id: None,
        address: "Rainbow St, Amman".into(),
        emergency_contact: String::new(),
        allergies: String::new(),
        chronic_diseases: String::new(),
        current_medications: String::new(),
        medical_history: String::new(),
    }
}

/// SQL through the keyed SQL tool's core function (`dentpro db sql`), as support would run it.
fn sqlite3(dir: &Path, sql: &str) -> String {
    dentpro_core::store::run_sql(dir, &common::db_key(dir), sql)
        .unwrap_or_else(|e| panic!("db sql failed on {sql}: {e:?}"))
}

/// The chain head as stored in the database.
fn stored_head(ws: &dentpro_core::Workstation) -> (u64, [u8; 32]) {
    let (seq, hash): (i64, Vec<u8>) = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT seq, hash FROM records WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1",
            [ws.device_id()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    (seq as u64, hash.try_into().unwrap())
}

#[test]
fn a_full_disk_is_said_plainly_loses_nothing_and_passes_once_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    ws.patients()
        .register(&admin.session_id, &patient("Before Full"))
        .unwrap();
    let records_before = record_count(&ws);
    let pages: i64 = count(ws.ledger().conn(), "PRAGMA page_count");
    // The database may not grow any more: the next pages it needs are "disk full".
    ws.ledger()
        .conn()
        .pragma_update_and_check(None, "max_page_count", pages, |r| r.get::<_, i64>(0))
        .unwrap();
    let mut refused = None;
    for n in 0..200 {
        match ws
            .patients()
            .register(&admin.session_id, &patient(&format!("Patient Number {n}")))
        {
            Ok(_) => continue,
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let err = refused.expect("the capped database refused a write");
    assert_eq!(err.code, ErrorCode::DiskFull, "{err:?}");
    assert!(err.message.contains("disk is full"), "{}", err.message);
    assert!(!err.message.contains("disk I/O error"), "{}", err.message);
    // The refused action changed nothing: the chain head in memory is the stored one.
    let head = ws.ledger().head();
    assert_eq!((head.seq, head.hash), stored_head(&ws));
    assert!(record_count(&ws) >= records_before);

    // Room again: the next append works and the whole chain verifies.
    ws.ledger()
        .conn()
        .pragma_update_and_check(None, "max_page_count", 1_073_741_823i64, |r| r.get::<_, i64>(0))
        .unwrap();
    ws.patients()
        .register(&admin.session_id, &patient("After Room"))
        .unwrap();
    let report = ws.audit().verify(&admin.session_id).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        count(
            ws.ledger().conn(),
            "SELECT count(*) FROM patients WHERE name_en = 'Before Full'"
        ),
        1
    );
}

#[test]
fn a_clean_close_removes_the_open_marker_and_a_crash_leaves_a_sound_database_usable() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    assert!(dir.path().join(OPEN_MARKER).exists(), "placed at open");
    ws.patients()
        .register(&admin.session_id, &patient("Sound Patient"))
        .unwrap();
    drop(ws);
    assert!(!dir.path().join(OPEN_MARKER).exists(), "removed at a clean close");

    // As if the app had been killed: the marker stays; the database is sound.
    std::fs::write(dir.path().join(OPEN_MARKER), b"1").unwrap();
    let mut ws = open(dir.path(), &clock).unwrap();
    assert!(ws.integrity_problem().is_none(), "{:?}", ws.integrity_problem());
    assert!(!ws.sync().outbox(0, 100).unwrap().is_empty());
}

/// The page of `table`'s b-tree root, 1-based, and the page size.
fn root_page(dir: &Path, table: &str) -> (u64, u64) {
    let page: u64 = sqlite3(
        dir,
        &format!("SELECT rootpage FROM sqlite_schema WHERE name = '{table}'"),
    )
    .trim()
    .parse()
    .unwrap();
    let size: u64 = sqlite3(dir, "PRAGMA page_size").trim().parse().unwrap();
    (page, size)
}

fn overwrite(path: &Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn after_an_unclean_shutdown_a_damaged_page_is_found_named_and_stops_sync() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    for n in 0..5 {
        ws.patients()
            .register(&admin.session_id, &patient(&format!("Paged Patient {n}")))
            .unwrap();
    }
    drop(ws);
    // Random bytes over a page of the search index, then the app "crashed" (marker left).
    let (page, size) = root_page(dir.path(), "patients_fts_data");
    // The second half of the page, where its cells are (the header stays readable).
    let noise: Vec<u8> = (0..size / 2).map(|i| (i * 7919 % 251) as u8).collect();
    overwrite(&dir.path().join(DB_FILE), (page - 1) * size + size / 2, &noise);
    std::fs::write(dir.path().join(OPEN_MARKER), b"1").unwrap();

    let mut ws = open(dir.path(), &clock).unwrap();
    let problem = ws
        .integrity_problem()
        .cloned()
        .expect("the full check ran and failed");
    assert_eq!(problem.code, ErrorCode::DatabaseCorrupt, "{problem:?}");
    assert_eq!(problem.details["reason"], "file_damaged");
    assert!(
        problem.details["problem"].contains(&format!("page {page}")),
        "the damaged page is named: {problem:?}"
    );
    // Nothing is pushed from it.
    let err = ws.sync().outbox(0, 100).unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseCorrupt);

    // SQLCipher stops the connection once a page fails its authentication: whatever comes next
    // is refused with the same plain error, never served from a damaged file.
    let err = ws.login("admin", PASSWORD).unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseCorrupt, "{err:?}");
}

#[test]
fn the_audit_screen_run_checks_the_file_itself() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let report = ws.audit().verify(&admin.session_id).unwrap();
    assert!(report.ok && report.storage_problems.is_empty(), "{report:?}");
}

#[test]
fn a_record_damaged_on_disk_is_not_handed_to_sync() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let p = ws
        .patients()
        .register(&admin.session_id, &patient("Zenobia Quillfeather"))
        .unwrap();
    let record_id: String = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT id FROM records WHERE kind = 'patient.registered' AND json_extract(payload, '$.patient_id') = ?1",
            [&p.id],
            |r| r.get(0),
        )
        .unwrap();
    drop(ws);
    // Outside the app, app closed: the record's payload changed in a way SQLite cannot see (the
    // page is well formed and, encrypted, authenticates: written with the key, as a faulty
    // tool or memory would), so only the record's own hash can tell.
    sqlite3(
        dir.path(),
        &format!(
            "DROP TRIGGER records_no_update; UPDATE records SET payload = \
             CAST(replace(CAST(payload AS TEXT), 'Zenobia', 'Xenobia') AS BLOB) WHERE id = '{record_id}'"
        ),
    );

    let mut ws = open(dir.path(), &clock).unwrap();
    let err = ws.sync().outbox(0, 1000).unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseCorrupt, "{err:?}");
    assert_eq!(err.details["reason"], "record_damaged");
    assert_eq!(err.details["record_id"], record_id);
    assert_eq!(err.details["table"], "records");
    assert!(err.message.contains(&record_id), "{}", err.message);
}

#[test]
fn a_role_changed_in_the_users_table_is_refused_at_sign_in_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    ws.accounts()
        .create_user(&admin.session_id, &new_user("rita", Role::Receptionist))
        .unwrap();
    ws.accounts()
        .create_user(&admin.session_id, &new_user("omar", Role::Doctor))
        .unwrap();
    drop(ws);
    sqlite3(
        dir.path(),
        "UPDATE users SET role = 'admin' WHERE username = 'rita'",
    );
    // And another account's password hash swapped for the admin's.
    sqlite3(
        dir.path(),
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'admin')
         WHERE username = 'omar'",
    );

    let mut ws = open(dir.path(), &clock).unwrap();
    let err = ws.login("rita", PASSWORD).unwrap_err();
    assert_eq!(err.code, ErrorCode::AccountTampered, "{err:?}");
    assert_eq!(err.details["field"], "role");
    assert_eq!(err.details["table"], "users");
    let (kind, _, _) = last_record(&ws);
    assert_eq!(kind, "auth.login_failed");
    let reason: String = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT json_extract(payload, '$.reason') FROM records ORDER BY local_index DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "account_tampered");

    let err = ws.login("omar", PASSWORD).unwrap_err();
    assert_eq!(err.code, ErrorCode::AccountTampered);
    assert_eq!(err.details["field"], "password_hash");

    // An untouched account signs in as before.
    ws.login("admin", PASSWORD).unwrap();
}
