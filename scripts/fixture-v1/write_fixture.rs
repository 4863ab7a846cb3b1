//! Writes the data dir of `tests/fixtures/v1-issue9/`: run by `scripts/make-fixture-v1.sh`
//! inside a checkout of the version that wrote it (commit 76fcb69, before issue 10's reshape),
//! as one of that version's core integration tests, so it uses that version's own helpers
//! (`common`). Every kind of record that version knew is written at least once, through its
//! own write path; then `expected.json` says how that version reads the result.

mod common;

use common::*;
use dentpro_core::accounts::Language;
use dentpro_core::demo::demo_patient;
use dentpro_core::permissions::Role;
use dentpro_core::sync::DeviceKind;
use std::path::Path;

#[test]
fn write_fixture() {
    let Ok(out) = std::env::var("DENTPRO_FIXTURE_OUT") else {
        return;
    };
    let dir = Path::new(&out).join("workstation");
    let clock = clock();
    let minute = || chrono::Duration::minutes(1);
    let (mut ws, admin) = set_up(&dir, &clock);
    let s = admin.session_id.clone();
    // Staff of every role (password `PASSWORD`), a cashier bound to this terminal.
    let mut ids = std::collections::BTreeMap::new();
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
        let user = ws
            .create_user(&s, &new_user(&format!("user.{role}"), role))
            .unwrap();
        ids.insert(role, user.id);
    }
    let device_id = ws.device_id().to_owned();
    ws.set_cashier_terminals(&s, &ids[&Role::Cashier], std::slice::from_ref(&device_id))
        .unwrap();
    // An account retired, one retired and back, a password reset.
    let retired = ws
        .create_user(&s, &new_user("retired", Role::Receptionist))
        .unwrap()
        .id;
    ws.set_user_active(&s, &retired, false).unwrap();
    ws.set_user_active(&s, &ids[&Role::Assistant], false).unwrap();
    ws.set_user_active(&s, &ids[&Role::Assistant], true).unwrap();
    ws.reset_password(&s, &ids[&Role::Doctor], "another-pass-1")
        .unwrap();
    ws.set_idle_lock_minutes(&s, 12).unwrap();
    clock.advance(minute());

    // Patients registered at the desk, edited, viewed.
    let desk = ws.login("user.receptionist", PASSWORD).unwrap();
    let patients: Vec<String> = (0..4)
        .map(|i| {
            ws.register_patient(&desk.session_id, &demo_patient(i))
                .unwrap()
                .id
        })
        .collect();
    clock.advance(minute());
    let mut input = dentpro_core::patients::get(ws.ledger().conn(), &patients[0])
        .unwrap()
        .fields;
    input.address = "Another street 9".into();
    input.allergies = "Penicillin, latex".into();
    ws.update_patient(&desk.session_id, &patients[0], &input)
        .unwrap();
    let doctor = ws.login("user.doctor", "another-pass-1").unwrap();
    ws.open_patient(&doctor.session_id, &patients[0]).unwrap();
    ws.logout(&doctor.session_id).unwrap();

    // Another desk of the branch heard of through the log (its enrolment), later revoked.
    let chair_dir = tempfile::tempdir().unwrap();
    let (chair, chair_records) = enrolled_device(chair_dir.path(), &clock, DeviceKind::Doctor, "chair");
    pull_into(&mut ws, &chair_records);
    clock.advance(minute());

    // Two edit conflicts (another desk's edits lost to this one's): one resolved, one open.
    let mut other = OtherDesk::new();
    let conflict = make_conflict(
        &mut ws,
        &s,
        &mut other,
        &patients[1],
        "phone",
        "0792222222",
        "0793333333",
    );
    ws.resolve_patient_conflict(&s, &patients[1], &conflict, "phone", true)
        .unwrap();
    make_conflict(
        &mut ws,
        &s,
        &mut other,
        &patients[2],
        "address",
        "12 Here St",
        "34 Elsewhere St",
    );
    clock.advance(minute());

    // Refusals, a failed login, a session locked and unlocked, a language, a verification.
    ws.audit_trail(&desk.session_id, &Default::default())
        .unwrap_err(); // access.denied
    ws.login("user.manager", "wrong-password").unwrap_err(); // auth.login_failed
    clock.advance(chrono::Duration::minutes(13)); // past the 12 minutes set above
    ws.heartbeat(&desk.session_id).unwrap_err(); // auth.session_locked
    ws.unlock(&desk.session_id, PASSWORD).unwrap();
    ws.set_language(&desk.session_id, Language::Ar).unwrap();
    ws.logout(&desk.session_id).unwrap();
    let s = ws.login("admin", PASSWORD).unwrap().session_id;
    ws.revoke_device(&s, &chair, "stolen").unwrap();
    let report = ws.verify_audit(&s).unwrap();
    assert!(report.ok, "{report:?}");
    ws.logout(&s).unwrap();

    // How this version reads what it wrote.
    let conn = ws.ledger().conn();
    let patients: Vec<serde_json::Value> = patients
        .iter()
        .map(|id| {
            serde_json::json!({
                "patient": dentpro_core::patients::get(conn, id).unwrap(),
                "history": dentpro_core::patients::history(conn, id).unwrap(),
                "conflicts": dentpro_core::patients::conflicts(conn, id).unwrap(),
            })
        })
        .collect();
    let kinds: Vec<(String, i64)> = conn
        .prepare("SELECT kind, count(*) FROM records GROUP BY kind ORDER BY kind")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let expected = serde_json::json!({
        "commit": std::env::var("DENTPRO_FIXTURE_COMMIT").unwrap_or_default(),
        "device_id": device_id,
        "password": PASSWORD,
        "records": record_count(&ws),
        "kinds": kinds,
        "users": dentpro_core::accounts::list_users(conn).unwrap(),
        "patients": patients,
    });
    drop(ws);
    std::fs::write(
        Path::new(&out).join("expected.json"),
        serde_json::to_string_pretty(&expected).unwrap() + "\n",
    )
    .unwrap();
}
