//! A data dir written by the previous version (issue 9's last commit, before issue 10 reshaped
//! the core into area folders, `Kind`s, incremental replay and the outbox) opens with today's
//! code, verifies (chain, signatures, anchor, projections equal to a rebuild), is read as that
//! version read it, and takes new records that verify. The fixture holds every kind of record
//! that version knew, two devices' chains, log positions and edit conflicts; how it was made:
//! `tests/fixtures/v1-issue9/README.md`.

mod common;

use common::*;
use dentpro_core::clock::ManualClock;
use dentpro_core::demo::demo_patient;
use dentpro_core::ids::PatientId;
use dentpro_core::{Workstation, accounts, audit, patients, settings};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/v1-issue9")
}

/// How the previous version read what it wrote (`expected.json`, written with the fixture).
fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap()
}

/// A copy of the fixture's data dir (its key file made private again: git keeps no modes).
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture().join("workstation"), dir.path());
    std::fs::set_permissions(
        dir.path().join("device.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    dir
}

/// A day after the fixture was written.
fn later() -> ManualClock {
    ManualClock::new(start_time() + chrono::Duration::days(1))
}

/// Verification as the audit screen runs it, from the files: chain, signatures, the chain-head
/// anchor, and the projections against a rebuild from the records.
fn assert_verifies(ws: &Workstation) -> audit::VerifyReport {
    let conn = ws.ledger().conn();
    let report = audit::verify(conn, Some(ws.data_dir()), Some(ws.device_id())).unwrap();
    assert!(report.ok, "{report:?}");
    assert!(report.projections_ok, "{report:?}");
    assert_eq!(audit::compare_projections(conn).unwrap(), None);
    report
}

fn kinds(ws: &Workstation) -> Value {
    let rows: Vec<(String, i64)> = ws
        .ledger()
        .conn()
        .prepare("SELECT kind, count(*) FROM records GROUP BY kind ORDER BY kind")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    json!(rows)
}

/// How today's code reads a fixture patient, in the shape `expected.json` holds.
fn read_patient(ws: &Workstation, id: &str) -> Value {
    let conn = ws.ledger().conn();
    let id = &PatientId::from(id);
    json!({
        "patient": patients::get(conn, id).unwrap(),
        "history": patients::history(conn, id).unwrap(),
        "conflicts": patients::conflicts(conn, id).unwrap(),
    })
}

fn patient_id(p: &Value) -> dentpro_core::ids::PatientId {
    p["patient"]["id"].as_str().unwrap().into()
}

#[test]
fn a_data_dir_of_the_previous_version_opens_verifies_and_reads_as_written() {
    let expected = expected();
    let dir = copy();
    let clock = later();
    let mut ws = open(dir.path(), &clock).unwrap();
    assert!(ws.integrity_problem().is_none(), "{:?}", ws.integrity_problem());
    assert_eq!(ws.device_id(), expected["device_id"].as_str().unwrap());

    // Every record of the previous version is there and verifies.
    let report = assert_verifies(&ws);
    assert_eq!(json!(report.records_checked), expected["records"]);
    assert_eq!(report.devices, 3, "this desk, the enrolled chair, the other desk");
    assert_eq!(kinds(&ws), expected["kinds"]);

    // Read as that version read it: accounts, settings, patients with history and conflicts.
    let conn = ws.ledger().conn();
    assert_eq!(json!(accounts::list_users(conn).unwrap()), expected["users"]);
    assert_eq!(settings::get(conn).unwrap().idle_lock_minutes, 12);
    let fixture_patients = expected["patients"].as_array().unwrap();
    assert_eq!(fixture_patients.len(), 4);
    for p in fixture_patients {
        assert_eq!(read_patient(&ws, &patient_id(p)), *p);
    }
    let resolved = &fixture_patients[1]["conflicts"];
    assert_eq!(resolved.as_array().unwrap().len(), 1);
    assert!(resolved[0]["resolution"].is_object(), "{resolved}");
    let open_conflict = &fixture_patients[2]["conflicts"][0];
    assert!(open_conflict["resolution"].is_null(), "{open_conflict}");

    // Its staff log in with the passwords they had, and write new records that verify.
    let password = expected["password"].as_str().unwrap();
    let desk = ws.login("user.receptionist", password).unwrap();
    assert_eq!(desk.language, accounts::Language::Ar, "set before the upgrade");
    let first = &fixture_patients[0]["patient"];
    let found = ws
        .patients()
        .search(&desk.session_id, first["file_number"].as_str().unwrap(), 10)
        .unwrap();
    assert!(found.iter().any(|p| json!(p.id) == first["id"]), "{found:?}");
    // The search index came over with the patients' rows (V14 keys it by their `search_key`):
    // each file is found by its name in either script and by its phone.
    for p in fixture_patients {
        let p = &p["patient"];
        for field in ["name_en", "name_ar", "phone"] {
            let found = ws
                .patients()
                .search(&desk.session_id, p[field].as_str().unwrap(), 10)
                .unwrap();
            assert!(
                found.iter().any(|f| json!(f.id) == p["id"]),
                "{field} {p}: {found:?}"
            );
        }
    }
    let newcomer = ws
        .patients()
        .register(&desk.session_id, &demo_patient(40))
        .unwrap();
    let edited_id = patient_id(&fixture_patients[3]);
    let mut edited = patients::get(ws.ledger().conn(), &edited_id).unwrap().fields;
    edited.phone = "0795555555".into();
    ws.patients()
        .update(&desk.session_id, &edited_id, &edited)
        .unwrap();
    let admin = ws.login("admin", password).unwrap();
    let conflicted = patient_id(&fixture_patients[2]);
    let record_id = open_conflict["record_id"].as_str().unwrap();
    let file = ws
        .patients()
        .resolve_conflict(
            &admin.session_id,
            &conflicted,
            &record_id.into(),
            "address",
            dentpro_core::patients::ConflictDecision::ApplyLosingEdit,
        )
        .unwrap();
    assert_eq!(file.patient.fields.address, "34 Elsewhere St");
    assert!(ws.audit().verify(&admin.session_id).unwrap().ok);
    assert!(record_count(&ws) > expected["records"].as_i64().unwrap() + 4);
    assert_verifies(&ws);

    // And after a restart.
    drop(ws);
    let ws = open(dir.path(), &clock).unwrap();
    assert!(ws.integrity_problem().is_none());
    assert_verifies(&ws);
    assert_eq!(
        patients::get(ws.ledger().conn(), &newcomer.id).unwrap().fields,
        demo_patient(40)
    );
}

#[test]
fn a_record_of_the_fixture_with_one_byte_flipped_fails_verification() {
    let dir = copy();
    let conn = open_db(dir.path());
    let own = device_id_of(dir.path());
    let (seq, mut payload): (i64, Vec<u8>) = conn
        .query_row(
            "SELECT seq, payload FROM records WHERE device_id = ?1 AND kind = 'patient.updated'
             ORDER BY seq LIMIT 1",
            [&own],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(audit::verify(&conn, Some(dir.path()), Some(&own)).unwrap().ok);
    // One byte of a value inside the payload (the JSON stays valid: a digit or letter moves).
    let at = payload.iter().rposition(u8::is_ascii_alphanumeric).unwrap();
    payload[at] ^= 1;
    conn.execute_batch("DROP TRIGGER records_no_update").unwrap();
    conn.execute(
        "UPDATE records SET payload = ?2 WHERE device_id = ?1 AND seq = ?3",
        rusqlite::params![own, payload, seq],
    )
    .unwrap();
    let report = audit::verify(&conn, Some(dir.path()), Some(&own)).unwrap();
    assert!(!report.ok, "{report:?}");
    assert_eq!(report.first_bad.as_ref().unwrap().seq, Some(seq), "{report:?}");
}
