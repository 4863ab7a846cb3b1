//! Damage and recovery with the real `dentpro-server` binary: a workstation whose database was
//! damaged on disk does not sync it; the server is backed up while it runs and restored (into a
//! fresh data dir with the same keys, or over its own with `--force`), after which every
//! workstation's pinned checkpoint still verifies; a lost workstation is replaced by a new one
//! that catches up.

mod support;

use dentpro_core::ErrorCode;
use dentpro_core::devices::DeviceKind;
use std::path::Path;
use std::process::Command;
use support::*;

const SERVER: &str = env!("CARGO_BIN_EXE_dentpro-server");

/// The server CLI on `dir`, expected to fail: its error text.
fn server_refuses(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(SERVER)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} should be refused");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn log_size(server: &TestServer) -> i64 {
    count(&server.db(), "SELECT count(*) FROM record_log")
}

/// The newest records' page (the rightmost leaf of `records`: the chain head is there, read at
/// open) and the oldest (read only when the outbox is pushed).
#[test]
fn a_record_damaged_on_disk_is_refused_locally_and_never_reaches_the_server() {
    damage_a_records_page_and_sync("DESC");
    damage_a_records_page_and_sync("ASC");
}

/// Damages the records leaf that comes first in dbstat's tree order `order` (`path` names a
/// page by its position in the b-tree), then opens and syncs.
fn damage_a_records_page_and_sync(order: &str) {
    let Branch {
        root,
        server,
        reception,
        doctor: _doctor,
    } = Branch::new();
    let rita = reception.login("rita");
    reception
        .ws()
        .patients()
        .register(&rita, &patient("Philippa Damagedrecord", "0791112223"))
        .unwrap();
    let dir = reception.dir.clone();
    let logged = log_size(&server);
    drop(reception); // the app is closed

    // Outside the app: bytes over a page of (pending) records. The file is
    // encrypted, so the name cannot be searched for: the page is found through SQLite's page
    // map (`dbstat`, read with the key as `dentpro db sql` does), and the damage makes that
    // page fail its authentication (HMAC) when read.
    let path = dir.join(dentpro_core::store::DB_FILE);
    let key = support::core_common::db_key(&dir);
    let pages = dentpro_core::store::run_sql(
        &dir,
        &key,
        &format!(
            "SELECT pageno FROM dbstat WHERE name = 'records' AND pagetype = 'leaf'
             ORDER BY path {order} LIMIT 1; PRAGMA page_size;"
        ),
    )
    .unwrap();
    let mut lines = pages.lines().map(|l| l.trim().parse::<u64>().unwrap());
    let (page, size) = (lines.next().unwrap(), lines.next().unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    let start = ((page - 1) * size + size / 2) as usize;
    for (i, b) in bytes[start..start + 64].iter_mut().enumerate() {
        *b ^= 0x5a ^ i as u8;
    }
    std::fs::write(&path, &bytes).unwrap();

    // Refused locally, with the problem named: at open (when the chain head is on that page)
    // or at the sync that would have pushed it, whichever read of it comes first.
    let opened = dentpro_core::Workstation::open(dentpro_core::workstation::OpenOptions {
        key_store: dentpro_core::device::KeyStorePreference::File,
        ..dentpro_core::workstation::OpenOptions::new(&dir)
    });
    let err = match opened {
        Err(e) => e,
        Ok(ws) => {
            let mut reception = Station::from_workstation(&dir, ws);
            reception.sync().unwrap_err()
        }
    };
    assert_eq!(err.code, ErrorCode::DatabaseCorrupt, "{order}: {err:?}");
    assert!(
        err.details.contains_key("record_id") || err.details.contains_key("problem"),
        "{order}: the error names the record or the page: {err:?}"
    );
    // Nothing of it reached the server.
    assert_eq!(log_size(&server), logged);
    assert_eq!(
        count(
            &server.db(),
            "SELECT count(*) FROM records WHERE kind = 'patient.registered'"
        ),
        0
    );
    drop(root);
}

/// The data dir files a restore needs beside the backup: the server's keys and identity.
const KEY_FILES: [&str; 5] = [
    "server.key",
    "server.json",
    "tls-cert.pem",
    "tls-key.pem",
    "db.key",
];

#[test]
fn a_backup_taken_while_serving_restores_and_every_desk_still_verifies_and_a_new_desk_catches_up() {
    let Branch {
        root,
        mut server,
        mut reception,
        mut doctor,
    } = Branch::new();
    let rita = reception.login("rita");
    for n in 0..3 {
        reception
            .ws()
            .patients()
            .register(&rita, &patient(&format!("Backed Up {n}"), "0791234567"))
            .unwrap();
    }
    reception.sync().unwrap();
    doctor.sync().unwrap();
    let logged = log_size(&server);

    // While the server runs.
    let backups = root.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let backup = backups.join("server-1.sqlite3");
    let out = server.cli(&["backup", "--out", backup.to_str().unwrap()]);
    assert!(out.contains(&format!("log size {logged}")), "{out}");
    // Encrypted with the database's key: no SQLite header, no patient's name in the file.
    assert!(out.contains("encrypted with the database key"), "{out}");
    let bytes = std::fs::read(&backup).unwrap();
    assert!(
        !bytes.starts_with(b"SQLite format 3\0"),
        "the backup is a plain SQLite file"
    );
    // A backup never overwrites a file.
    let refused = server_refuses(&server.dir, &["backup", "--out", backup.to_str().unwrap()]);
    assert!(refused.contains("already exists"), "{refused}");
    // A restore is refused while the server runs.
    let refused = server_refuses(
        &server.dir,
        &["restore", "--from", backup.to_str().unwrap(), "--force"],
    );
    assert!(refused.contains("running"), "{refused}");

    // The machine is lost: a fresh data dir with the same keys, the backup restored into it.
    server.kill();
    let fresh = root.path().join("server-new");
    std::fs::create_dir(&fresh).unwrap();
    for f in KEY_FILES {
        std::fs::copy(server.dir.join(f), fresh.join(f)).unwrap();
    }
    server.dir = fresh;
    let out = server.cli(&["restore", "--from", backup.to_str().unwrap()]);
    assert!(out.contains(&format!("log size {logged}")), "{out}");
    // Not a database: refused, nothing changed.
    let junk = root.path().join("junk.sqlite3");
    std::fs::write(&junk, vec![0x5a; 8192]).unwrap();
    let refused = server_refuses(
        &server.dir,
        &["restore", "--from", junk.to_str().unwrap(), "--force"],
    );
    assert!(
        refused.contains("not a usable branch-server database"),
        "{refused}"
    );
    // Over a database, only with --force.
    let refused = server_refuses(&server.dir, &["restore", "--from", backup.to_str().unwrap()]);
    assert!(refused.contains("--force"), "{refused}");
    server.cli(&["restore", "--from", backup.to_str().unwrap(), "--force"]);
    server.restart();

    // Both desks' pinned checkpoints verify against the restored log, and they work on.
    reception
        .sync()
        .expect("reception syncs with the restored server");
    doctor.sync().expect("doctor syncs with the restored server");
    reception
        .ws()
        .patients()
        .register(&rita, &patient("After Restore", "0797654321"))
        .unwrap();
    reception.sync().unwrap();
    doctor.sync().unwrap();
    let dana = doctor.login("dana");
    assert_eq!(
        doctor
            .ws()
            .patients()
            .search(&dana, "After Restore", 10)
            .unwrap()
            .len(),
        1
    );

    // The doctor's machine is lost: revoked, and a new one enrols and pulls everything.
    let lost = doctor.device_id();
    drop(doctor);
    server.cli(&["revoke", &lost]);
    let mut replacement = Station::open(&root.path().join("doctor-new"));
    replacement.enrol(&server, DeviceKind::Doctor);
    replacement.sync().unwrap();
    replacement.login("dana"); // the accounts arrived too
    let conn = replacement.db();
    assert_eq!(
        count(&conn, "SELECT count(*) FROM patients"),
        4,
        "every patient reached the new desk"
    );
    let verified = dentpro_core::audit::verify(&conn, None, None).unwrap();
    assert!(verified.ok, "{verified:?}");
}

#[test]
fn entries_logged_after_the_backup_are_recovered_from_a_desk_that_holds_them() {
    let Branch {
        root,
        mut server,
        mut reception,
        mut doctor,
    } = Branch::new();
    let backup = root.path().join("server-1.sqlite3");
    server.cli(&["backup", "--out", backup.to_str().unwrap()]);
    // After the backup, both desks write and sync, interleaved, and pin the longer log.
    let rita = reception.login("rita");
    reception
        .ws()
        .patients()
        .register(&rita, &patient("Logged After Backup", "0791234567"))
        .unwrap();
    reception.sync().unwrap();
    doctor.login("dana");
    doctor.sync().unwrap();
    // A desk enrolled after the backup: the restored server has never heard of it.
    let mut late = Station::open(&root.path().join("late-desk"));
    late.enrol(&server, DeviceKind::Doctor);
    late.sync().unwrap();
    reception.sync().unwrap();
    doctor.sync().unwrap();
    let logged = log_size(&server);

    server.kill();
    server.cli(&["restore", "--from", backup.to_str().unwrap(), "--force"]);
    server.restart();
    // The restored log is shorter than what the desks verified: they refuse it (rather than
    // accept a rewritten history), and change nothing.
    let err = doctor.sync().unwrap_err();
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("log_truncated"),
        "{err:?}"
    );
    assert!(log_size(&server) < logged);

    // The reception desk's copy of the log brings the lost entries back, each re-checked.
    server.kill();
    let export = dentpro_sync::client::export_log(&reception.ws, 0).unwrap();
    assert_eq!(export.checkpoint.tree_size as i64, logged);
    // A checkpoint this server did not sign is refused.
    let mut unsigned = export.clone();
    unsigned.checkpoint.tree_size += 1;
    let unsigned_file = root.path().join("unsigned.json");
    std::fs::write(&unsigned_file, serde_json::to_vec(&unsigned).unwrap()).unwrap();
    let refused = server_refuses(
        &server.dir,
        &["recover-log", "--from", unsigned_file.to_str().unwrap()],
    );
    assert!(refused.contains("not signed by this server"), "{refused}");
    // An altered copy is refused whole.
    let mut altered = export.clone();
    let last = altered.entries.last_mut().unwrap();
    last.position.reason = Some("forbidden: forged".into());
    let altered_file = root.path().join("altered.json");
    std::fs::write(&altered_file, serde_json::to_vec(&altered).unwrap()).unwrap();
    let refused = server_refuses(
        &server.dir,
        &["recover-log", "--from", altered_file.to_str().unwrap()],
    );
    assert!(refused.contains("decides it differently"), "{refused}");
    let restored = log_size(&server);
    assert!(restored < logged);

    let file = root.path().join("reception-log.json");
    std::fs::write(&file, serde_json::to_vec(&export).unwrap()).unwrap();
    let out = server.cli(&["recover-log", "--from", file.to_str().unwrap()]);
    assert!(
        out.contains(&format!(
            "recovered {} entries: log size {logged}",
            logged - restored
        )),
        "{out}"
    );
    server.restart();
    // Every desk's pinned checkpoint verifies again; they sync on.
    doctor.sync().expect("the doctor's pinned checkpoint verifies");
    reception.sync().expect("reception syncs");
    // The late desk's enrolment came back with its records: it signs in to the server as before.
    late.forget_client();
    late.sync().expect("the desk enrolled after the backup syncs");
    assert_eq!(
        count(
            &server.db(),
            "SELECT count(*) FROM patients WHERE name_en = 'Logged After Backup'"
        ),
        1
    );
}
