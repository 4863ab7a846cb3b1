//! Sync end to end: the real `dentpro-server` on loopback (HTTPS, pinned certificate, DPoP
//! tokens) and several workstations with their own data dirs and keys.

mod support;

use dentpro_core::ErrorCode;
use dentpro_core::patients::ConflictDecision;
use support::*;

#[test]
fn a_patient_registered_at_reception_reaches_the_doctor() {
    let mut b = Branch::new();
    // The doctor's machine got the branch and its accounts from the server: staff log in there.
    let dana = b.doctor.login("dana");
    let rita = b.reception.login("rita");
    let p = b
        .reception
        .ws()
        .patients()
        .register(&rita, &patient("Sara Haddad", "0791234567"))
        .unwrap();
    assert_eq!(
        b.doctor.ws().patients().search(&dana, "Sara", 10).unwrap().len(),
        0
    );
    let pushed = b.reception.sync().unwrap();
    assert_eq!(pushed.pending, 0);
    let pulled = b.doctor.sync().unwrap();
    assert!(pulled.pulled >= 2, "{pulled:?}");
    let found = b.doctor.ws().patients().search(&dana, "Sara", 10).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].file_number, p.file_number);
    let file = b.doctor.ws().patients().open(&dana, &p.id).unwrap();
    assert_eq!(file.patient.fields.phone, p.fields.phone);
    // Both databases verify, and hold the same projections.
    for station in [&b.reception, &b.doctor] {
        let report = station
            .ws()
            .ledger()
            .conn()
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .unwrap();
        assert_eq!(report, 1);
        let conn = station.db();
        assert_eq!(dentpro_core::audit::compare_projections(&conn).unwrap(), None);
    }
    b.doctor.sync().unwrap();
    b.reception.sync().unwrap();
    let dump = |s: &Station| dentpro_core::audit::dump_projections(&s.db()).unwrap();
    assert_eq!(dump(&b.reception), dump(&b.doctor));
    // The devices are listed with their last-seen time and lag.
    let devices = b.server.cli(&["devices"]);
    assert!(
        devices.contains("reception") && devices.contains("doctor"),
        "{devices}"
    );
    // Every record of the reception desk can be proven to be in the log.
    let seq = b.reception.ws().ledger().head().seq;
    let index = b.reception.prove_inclusion(seq).unwrap();
    assert!(index > 0);
    let _ = ErrorCode::SyncRejected;
}

use dentpro_core::accounts::{self, LoginSucceeded};
use dentpro_core::devices::{DeviceKind, DeviceRevoked};
use dentpro_core::patients::PatientRegistered;
use dentpro_core::permissions::Role;
use dentpro_core::test_support;

fn reason(e: &dentpro_core::CoreError) -> &str {
    e.details.get("reason").map(String::as_str).unwrap_or("")
}

fn user_id(station: &Station, username: &str) -> dentpro_core::ids::UserId {
    accounts::user_by_username(&station.db(), username)
        .unwrap()
        .unwrap()
        .id
}

#[test]
fn records_the_rules_refuse_are_refused_reported_and_not_applied_anywhere() {
    let mut b = Branch::new();
    let dana = user_id(&b.reception, "dana");
    let carl = user_id(&b.reception, "carl");
    // A doctor may not register patients; a cashier may not work at the reception desk.
    // A tampered (or outdated) workstation writes both anyway.
    let forged_patient = PatientRegistered {
        patient_id: "019a0000-0000-7000-8000-00000000f00d".into(),
        file_number: "FFFF-00001".into(),
        fields: dentpro_core::patients::validate(
            &patient("Forged Person", "0790000001"),
            chrono::NaiveDate::MAX,
        )
        .unwrap(),
    };
    b.reception.forge(
        test_support::actor(&dana, Role::Doctor, None),
        forged_patient.into(),
    );
    b.reception.forge(
        test_support::actor(&carl, Role::Cashier, None),
        LoginSucceeded {
            user_id: carl.clone(),
            session_id: "s".into(),
        }
        .into(),
    );
    let report = b.reception.sync().unwrap();
    assert_eq!(report.refused, 2, "{report:?}");
    let server = b.server.db();
    let mut reasons: Vec<String> = server
        .prepare("SELECT reason FROM record_log WHERE verdict = 'refused' ORDER BY log_index")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    reasons.sort();
    assert!(
        reasons[0].starts_with("cashier_terminal_not_bound"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("forbidden: a doctor may not patient_register"),
        "{reasons:?}"
    );
    let alerts = b.server.cli(&["alerts"]);
    assert!(
        alerts.contains("record_refused") && alerts.contains("forbidden"),
        "{alerts}"
    );
    // Not applied on the server, taken back out at reception, never applied at the doctor's.
    assert_eq!(count(&server, "SELECT count(*) FROM patients"), 0);
    b.doctor.sync().unwrap();
    let rita = b.reception.login("rita");
    assert!(
        b.reception
            .ws()
            .patients()
            .search(&rita, "Forged", 10)
            .unwrap()
            .is_empty()
    );
    let dana_session = b.doctor.login("dana");
    assert!(
        b.doctor
            .ws()
            .patients()
            .search(&dana_session, "Forged", 10)
            .unwrap()
            .is_empty()
    );
    for s in [&b.reception, &b.doctor] {
        assert_eq!(dentpro_core::audit::compare_projections(&s.db()).unwrap(), None);
    }
    // The desk's chain goes on: its next records are accepted.
    b.reception
        .ws()
        .patients()
        .register(&rita, &patient("Real Person", "0790000002"))
        .unwrap();
    assert_eq!(b.reception.sync().unwrap().refused, 0);
    b.doctor.sync().unwrap();
    assert_eq!(
        b.doctor
            .ws()
            .patients()
            .search(&dana_session, "Real", 10)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_cashier_works_only_at_the_terminals_bound_to_them() {
    let mut b = Branch::new();
    let carl = user_id(&b.reception, "carl");
    // Enrolled: the reception desk refuses the cashier's login, and says why.
    let refused = b.reception.ws().login("carl", PASSWORD).unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    assert_eq!(reason(&refused), "terminal_not_bound");
    let mut till = Station::open(&b.root.path().join("till"));
    till.enrol(&b.server, DeviceKind::CashierTerminal);
    till.sync().unwrap();
    assert_eq!(
        reason(&till.ws().login("carl", PASSWORD).unwrap_err()),
        "terminal_not_bound"
    );
    // The admin binds carl to the till; once synced, carl works there (and still not at reception).
    let admin = b.reception.login("admin");
    let till_id = till.device_id();
    b.reception.sync().unwrap();
    let devices = b.reception.ws().devices().branch_devices(&admin).unwrap();
    assert!(
        devices
            .iter()
            .any(|d| d.device_id == till_id.as_str() && d.kind == DeviceKind::CashierTerminal),
        "{devices:?}"
    );
    b.reception
        .ws()
        .accounts()
        .set_cashier_terminals(&admin, &carl, std::slice::from_ref(&till_id))
        .unwrap();
    b.reception.sync().unwrap();
    till.sync().unwrap();
    till.login("carl");
    assert_eq!(till.sync().unwrap().refused, 0);
    assert_eq!(
        reason(&b.reception.ws().login("carl", PASSWORD).unwrap_err()),
        "terminal_not_bound"
    );
    // A receptionist may not bind cashiers (the workstation refuses and records it).
    let rita = b.reception.login("rita");
    let denied = b
        .reception
        .ws()
        .accounts()
        .set_cashier_terminals(&rita, &carl, &[till_id])
        .unwrap_err();
    assert_eq!(denied.code, ErrorCode::Forbidden);
}

#[test]
fn forged_signatures_replayed_and_reordered_batches_change_nothing() {
    let mut b = Branch::new();
    let rita = b.reception.login("rita");
    for i in 0..3 {
        b.reception
            .ws()
            .patients()
            .register(&rita, &patient(&format!("Batch {i}"), "0791111111"))
            .unwrap();
    }
    let device = b.reception.device_id();
    let logged = |b: &Branch| {
        count(
            &b.server.db(),
            &format!("SELECT count(*) FROM records WHERE device_id = '{device}'"),
        )
    };
    let log_size = |b: &Branch| count(&b.server.db(), "SELECT count(*) FROM record_log");
    let before = (logged(&b), log_size(&b));
    let batch = b.reception.ws().sync().outbox(before.0 as u64, 100).unwrap();
    assert_eq!(batch.len(), 4); // the login and three registrations
    // Reordered: refused, nothing logged.
    let mut reversed = batch.clone();
    reversed.reverse();
    assert_eq!(
        reason(&b.reception.push_records(&reversed).unwrap_err()),
        "seq_gap"
    );
    assert_eq!(
        reason(&b.reception.push_records(&batch[1..]).unwrap_err()),
        "seq_gap"
    );
    // Forged: a record altered and signed by another key.
    let mut forged = batch[0].clone();
    forged.body.device_time = "2020-01-01T00:00:00.000Z".into();
    let other = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let forged = forged.body.sign(&other);
    assert_eq!(
        reason(&b.reception.push_records(&[forged]).unwrap_err()),
        "bad_signature"
    );
    assert_eq!((logged(&b), log_size(&b)), before);
    assert!(b.server.cli(&["alerts"]).contains("bad_signature"));
    // The genuine batch, twice: logged once, the second receipt names the same places.
    let first = b.reception.push_records(&batch).unwrap();
    let after = (logged(&b), log_size(&b));
    assert_eq!(after, (before.0 + 4, before.1 + 4));
    let again = b.reception.push_records(&batch).unwrap();
    assert_eq!((logged(&b), log_size(&b)), after);
    let places = |r: &dentpro_sync::protocol::PushReceipt| {
        r.entries.iter().map(|e| e.position.log_index).collect::<Vec<_>>()
    };
    assert_eq!(places(&first), places(&again));
    // The workstation takes it from there.
    let report = b.reception.sync().unwrap();
    assert_eq!(report.pending, 0);
}

#[test]
fn a_replayed_proof_and_a_token_used_from_another_machine_are_refused() {
    use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
    use dentpro_sync::auth;
    let b = Branch::new();
    let key = DeviceIdentity::load_or_create(&b.reception.dir, KeyStorePreference::File)
        .unwrap()
        .signing_key()
        .clone();
    let fingerprint = b
        .server
        .cli(&["enrol-code", "--kind", "doctor", "--address", &b.server.address]);
    let ticket: dentpro_sync::client::EnrolmentTicket = fingerprint.trim().parse().unwrap();
    let http = dentpro_sync::tls::pinned_http_client(&ticket.certificate_fingerprint).unwrap();
    let url = format!("https://{}/v1/token", b.server.address);
    let proof = auth::make_proof(&key, "POST", &url, None, chrono::Utc::now());
    let first = http.post(&url).header("DPoP", &proof).send().unwrap();
    assert!(first.status().is_success());
    let token: dentpro_sync::protocol::TokenResponse = first.json().unwrap();
    let replay = http.post(&url).header("DPoP", &proof).send().unwrap();
    assert_eq!(replay.status().as_u16(), 401);
    assert!(replay.text().unwrap().contains("replayed"));
    // The token, copied to a machine with another key: its proofs do not match the token.
    let thief = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
    let state_url = format!("https://{}/v1/state", b.server.address);
    let stolen = auth::make_proof(
        &thief,
        "GET",
        &state_url,
        Some(&token.access_token),
        chrono::Utc::now(),
    );
    let refused = http
        .get(&state_url)
        .header("Authorization", format!("DPoP {}", token.access_token))
        .header("DPoP", stolen)
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    assert!(refused.text().unwrap().contains("token_binding"));
    // A proof for another URL (or an expired one) fails too.
    let elsewhere = auth::make_proof(
        &key,
        "GET",
        &format!("https://{}/v1/devices", b.server.address),
        Some(&token.access_token),
        chrono::Utc::now(),
    );
    let refused = http
        .get(&state_url)
        .header("Authorization", format!("DPoP {}", token.access_token))
        .header("DPoP", elsewhere)
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let old = auth::make_proof(
        &key,
        "GET",
        &state_url,
        Some(&token.access_token),
        chrono::Utc::now() - chrono::Duration::hours(1),
    );
    let refused = http
        .get(&state_url)
        .header("Authorization", format!("DPoP {}", token.access_token))
        .header("DPoP", old)
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let alerts = b.server.cli(&["alerts"]);
    assert!(
        alerts.contains("replayed") && alerts.contains("token_binding"),
        "{alerts}"
    );
}

#[test]
fn a_revoked_device_is_refused_and_its_earlier_records_stay() {
    let mut b = Branch::new();
    let dana = b.doctor.login("dana");
    b.doctor.sync().unwrap();
    let device = b.doctor.device_id();
    let logged = |b: &Branch| {
        count(
            &b.server.db(),
            &format!("SELECT count(*) FROM records WHERE device_id = '{device}'"),
        )
    };
    let before = logged(&b);
    assert!(before > 0);
    b.server.cli(&["revoke", &device]);
    b.doctor.ws().logout(&dana).unwrap();
    b.doctor.forget_client();
    let refused = b.doctor.sync().unwrap_err();
    assert_eq!(reason(&refused), "device_revoked", "{refused:?}");
    assert_eq!(logged(&b), before);
    assert!(b.server.cli(&["devices"]).contains("(revoked)"));
    // The rest of the branch goes on, and still has the doctor's earlier records.
    b.reception.sync().unwrap();
    assert!(
        count(
            &b.reception.db(),
            &format!("SELECT count(*) FROM records WHERE device_id = '{device}'")
        ) >= before
    );
}

#[test]
fn an_admin_revokes_the_doctors_machine_from_reception_and_the_server_refuses_it_from_then_on() {
    let mut b = Branch::new();
    let dana = b.doctor.login("dana");
    b.doctor.sync().unwrap();
    let doctor = b.doctor.device_id();
    let logged = |b: &Branch| {
        count(
            &b.server.db(),
            &format!("SELECT count(*) FROM records WHERE device_id = '{doctor}'"),
        )
    };
    let before = logged(&b);
    assert!(before >= 3, "genesis, enrolment, login: {before}");
    // The reception desk hears of the doctor's machine through the log; the admin revokes it
    // there (the app's path), with a reason.
    b.reception.sync().unwrap();
    let admin = b.reception.login("admin");
    let revoked = b
        .reception
        .ws()
        .devices()
        .revoke(&admin, &doctor, "Stolen from surgery 2")
        .unwrap();
    assert_eq!(revoked.revoked.as_ref().unwrap().reason, "Stolen from surgery 2");
    // The server's figures still say active until the revocation reaches it.
    let live = dentpro_sync::client::live_devices(&b.reception.ws)
        .unwrap()
        .unwrap();
    assert!(
        live.iter()
            .find(|d| d.device_id == *doctor)
            .unwrap()
            .revoked_at
            .is_none()
    );
    assert_eq!(b.reception.sync().unwrap().refused, 0);

    // The server marked it, in its device list and its alerts.
    let revoked_at: Option<String> = b
        .server
        .db()
        .query_row(
            "SELECT revoked_at FROM devices WHERE device_id = ?1",
            [&doctor],
            |r| r.get(0),
        )
        .unwrap();
    assert!(revoked_at.is_some());
    assert!(b.server.cli(&["devices"]).contains("doctor (revoked)"));
    let alerts = b.server.cli(&["alerts"]);
    assert!(
        alerts.contains(&format!(
            "{doctor} device_revoked revoked: device revoked by admin"
        )) && alerts.contains("Stolen from surgery 2"),
        "{alerts}"
    );
    let live = dentpro_sync::client::live_devices(&b.reception.ws)
        .unwrap()
        .unwrap();
    let doctor_live = live.iter().find(|d| d.device_id == *doctor).unwrap();
    assert!(doctor_live.revoked_at.is_some() && doctor_live.last_seen_at.is_some());

    // The doctor's machine writes on (offline from the branch's point of view): its next push
    // is refused with a reason the app shows, and nothing more of it is logged.
    b.doctor.ws().logout(&dana).unwrap();
    let refused = b.doctor.sync().unwrap_err();
    assert_eq!(refused.code, ErrorCode::SyncRejected, "{refused:?}");
    assert_eq!(reason(&refused), "device_revoked", "{refused:?}");
    b.doctor.forget_client();
    assert_eq!(reason(&b.doctor.sync().unwrap_err()), "device_revoked");
    assert_eq!(logged(&b), before);
    // Its earlier records stay in the log, and keep travelling to the rest of the branch.
    let mut chair = Station::open(&b.root.path().join("chair"));
    chair.enrol(&b.server, DeviceKind::Doctor);
    chair.sync().unwrap();
    assert_eq!(
        count(
            &chair.db(),
            &format!("SELECT count(*) FROM records WHERE device_id = '{doctor}'")
        ),
        before
    );
    // Every workstation shows it revoked, by whom and why (a projection of the records).
    let on_chair = chair.ws().login("admin", PASSWORD).unwrap().session_id;
    let listed = chair.ws().devices().branch_devices(&on_chair).unwrap();
    let r = listed
        .iter()
        .find(|d| d.device_id == doctor.as_str())
        .and_then(|d| d.revoked.clone())
        .expect("revoked on the new chair");
    assert_eq!(r.by_name.as_deref(), Some("Adel Admin"));
    assert_eq!(r.by_device_id, b.reception.device_id().as_str());
    for s in [&b.reception, &chair] {
        assert_eq!(dentpro_core::audit::compare_projections(&s.db()).unwrap(), None);
    }
    // Revoking it again is refused at the desk; so is revoking the desk itself.
    let again = b
        .reception
        .ws()
        .devices()
        .revoke(&admin, &doctor, "again")
        .unwrap_err();
    assert_eq!(reason(&again), "already_revoked");
    let own = b.reception.device_id();
    let itself = b
        .reception
        .ws()
        .devices()
        .revoke(&admin, &own, "oops")
        .unwrap_err();
    assert_eq!(reason(&itself), "cannot_revoke_self");
}

#[test]
fn a_revocation_forged_for_a_manager_is_refused_and_reported() {
    let mut b = Branch::new();
    let admin = b.reception.login("admin");
    let manager = b
        .reception
        .ws()
        .accounts()
        .create_user(&admin, &new_user("mona", Role::Manager))
        .unwrap()
        .id;
    b.reception.sync().unwrap();
    let doctor = b.doctor.device_id();
    // The workstation refuses the manager (an access.denied record)...
    let mona = b.reception.login("mona");
    let denied = b
        .reception
        .ws()
        .devices()
        .revoke(&mona, &doctor, "not mine to revoke")
        .unwrap_err();
    assert_eq!(denied.code, ErrorCode::Forbidden);
    // ...so a tampered one writes the record anyway.
    b.reception.forge(
        test_support::actor(&manager, Role::Manager, None),
        DeviceRevoked {
            device_id: doctor.clone(),
            reason: "forged".into(),
        }
        .into(),
    );
    let report = b.reception.sync().unwrap();
    assert_eq!(report.refused, 1, "{report:?}");
    let reason_logged: String = b
        .server
        .db()
        .query_row(
            "SELECT l.reason FROM record_log l JOIN records r ON r.local_index = l.local_index
             WHERE r.kind = 'device.revoked'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        reason_logged.starts_with("forbidden: a manager may not device_revoke"),
        "{reason_logged}"
    );
    let alerts = b.server.cli(&["alerts"]);
    assert!(
        alerts.contains("record_refused") && alerts.contains("(device.revoked)"),
        "{alerts}"
    );
    assert!(!alerts.contains("device_revoked revoked"), "{alerts}");
    // Not acted on anywhere: the doctor's machine syncs on, and no desk shows it revoked.
    b.doctor.sync().unwrap();
    assert!(!b.server.cli(&["devices"]).contains("(revoked)"));
    let admin = b.reception.login("admin");
    let listed = b.reception.ws().devices().branch_devices(&admin).unwrap();
    assert!(listed.iter().all(|d| d.revoked.is_none()), "{listed:?}");
    for s in [&b.reception, &b.doctor] {
        assert_eq!(dentpro_core::audit::compare_projections(&s.db()).unwrap(), None);
    }
}

#[test]
fn two_desks_editing_one_patient_offline_converge_in_log_order_and_keep_the_losing_edit() {
    let mut b = Branch::new();
    let rita = b.reception.login("rita");
    let dana = b.doctor.login("dana");
    let p = b
        .reception
        .ws()
        .patients()
        .register(&rita, &patient("Huda Saleh", "0791000000"))
        .unwrap();
    b.reception.sync().unwrap();
    b.doctor.sync().unwrap();
    b.server.kill();
    // Server down: both desks edit the phone; the doctor also notes an allergy.
    let mut at_reception = p.fields.clone();
    at_reception.phone = "0792222222".into();
    b.reception
        .ws()
        .patients()
        .update(&rita, &p.id, &at_reception)
        .unwrap();
    let mut at_doctor = p.fields.clone();
    at_doctor.phone = "0793333333".into();
    at_doctor.allergies = "penicillin".into();
    b.doctor.ws().patients().update(&dana, &p.id, &at_doctor).unwrap();
    assert!(b.reception.sync().is_err(), "the server is down");
    b.server.restart();
    b.doctor.forget_client();
    b.reception.forget_client();
    // The doctor's edit reaches the log first; the reception's lands after it.
    b.doctor.sync().unwrap();
    let report = b.reception.sync().unwrap();
    assert!(report.reprojected, "{report:?}");
    b.doctor.sync().unwrap();
    for (station, session) in [(&b.reception, &rita), (&b.doctor, &dana)] {
        let file = station.ws().patients().open(session, &p.id).unwrap();
        assert_eq!(file.patient.fields.phone, "0793333333");
        assert_eq!(file.patient.fields.allergies, "penicillin");
        assert_eq!(file.conflicts.len(), 1, "{:?}", file.conflicts);
        let c = &file.conflicts[0];
        assert_eq!(
            (c.field.as_str(), c.proposed.as_str(), c.kept.as_str()),
            ("phone", "0792222222", "0793333333")
        );
        assert_eq!(
            dentpro_core::audit::compare_projections(&station.db()).unwrap(),
            None
        );
    }
    let dump = |s: &Station| dentpro_core::audit::dump_projections(&s.db()).unwrap();
    assert_eq!(dump(&b.reception), dump(&b.doctor));
    assert_eq!(
        dump(&b.reception),
        dentpro_core::audit::dump_projections(&b.server.db()).unwrap()
    );

    // The reception, whose edit lost, acts on the conflict from the file: its phone is the
    // right one after all. One edit (from the doctor's value) and the resolution, pushed
    // together; the doctor's desk sees the new phone and the conflict closed.
    let c = b.reception.ws().patients().open(&rita, &p.id).unwrap().conflicts[0].clone();
    let file = b
        .reception
        .ws()
        .patients()
        .resolve_conflict(
            &rita,
            &p.id,
            &c.record_id,
            &c.field,
            ConflictDecision::ApplyLosingEdit,
        )
        .unwrap();
    assert_eq!(file.patient.fields.phone, "0792222222");
    assert!(file.conflicts.is_empty());
    assert_eq!(b.reception.sync().unwrap().pending, 0);
    b.doctor.sync().unwrap();
    b.reception.sync().unwrap();
    let file = b.doctor.ws().patients().open(&dana, &p.id).unwrap();
    assert_eq!(file.patient.fields.phone, "0792222222");
    assert_eq!(file.patient.fields.allergies, "penicillin");
    assert!(file.conflicts.is_empty(), "{:?}", file.conflicts);
    let resolved = file
        .history
        .iter()
        .find(|h| h.kind == "patient.conflict_resolved")
        .unwrap();
    assert_eq!(
        resolved.by_user_id.as_deref(),
        Some(user_id(&b.doctor, "rita").as_str())
    );
    let all = dentpro_core::patients::conflicts(&b.doctor.db(), &p.id).unwrap();
    assert_eq!(all.len(), 1, "the conflict stays, resolved");
    assert_eq!(
        all[0].resolution.as_ref().map(|r| r.outcome),
        Some(dentpro_core::patients::ConflictOutcome::Applied)
    );
    // Resolving it again, at either desk, is refused.
    let again = b
        .doctor
        .ws()
        .patients()
        .resolve_conflict(
            &dana,
            &p.id,
            &c.record_id,
            &c.field,
            ConflictDecision::KeepCurrent,
        )
        .unwrap_err();
    assert_eq!(reason(&again), "conflict_already_resolved");
    for station in [&b.reception, &b.doctor] {
        assert_eq!(
            dentpro_core::audit::compare_projections(&station.db()).unwrap(),
            None
        );
    }
    assert_eq!(dump(&b.reception), dump(&b.doctor));
    assert_eq!(
        dump(&b.doctor),
        dentpro_core::audit::dump_projections(&b.server.db()).unwrap()
    );
}

#[test]
fn a_server_killed_in_the_middle_of_a_push_loses_nothing_and_duplicates_nothing() {
    let mut b = Branch::new();
    let rita = b.reception.login("rita");
    for i in 0..1500 {
        b.reception
            .ws()
            .patients()
            .register(&rita, &patient(&format!("Bulk {i}"), "0794444444"))
            .unwrap();
    }
    let mut reception = std::mem::replace(&mut b.reception, Station::open(&b.root.path().join("spare")));
    let pushing = std::thread::spawn(move || {
        let result = reception.sync();
        (reception, result)
    });
    std::thread::sleep(std::time::Duration::from_millis(150));
    b.server.kill();
    let (reception, first) = pushing.join().unwrap();
    b.reception = reception;
    b.server.restart();
    b.reception.forget_client();
    let report = b.reception.sync().unwrap();
    assert_eq!(report.pending, 0, "first attempt: {first:?}");
    let device = b.reception.device_id();
    let head = b.reception.ws().ledger().head().seq as i64;
    let server = b.server.db();
    assert_eq!(
        count(
            &server,
            &format!("SELECT count(*) FROM records WHERE device_id = '{device}'")
        ),
        head
    );
    assert_eq!(
        count(
            &server,
            &format!("SELECT count(DISTINCT seq) FROM records WHERE device_id = '{device}'")
        ),
        head
    );
    assert_eq!(
        count(&server, "SELECT count(*) FROM record_log"),
        count(&server, "SELECT count(*) FROM records")
    );
    b.doctor.sync().unwrap();
    assert_eq!(count(&b.doctor.db(), "SELECT count(*) FROM patients"), 1500);
}

#[test]
fn a_truncated_server_log_is_detected_at_the_next_sync() {
    let mut b = Branch::new();
    let rita = b.reception.login("rita");
    b.reception
        .ws()
        .patients()
        .register(&rita, &patient("Before Cut", "0795555555"))
        .unwrap();
    b.reception.sync().unwrap();
    b.doctor.sync().unwrap();
    b.server.kill();
    let size = count(&b.server.db(), "SELECT count(*) FROM record_log");
    b.server
        .db()
        .execute("DELETE FROM record_log WHERE log_index >= ?1", [size - 3])
        .unwrap();
    b.server.restart();
    b.reception.forget_client();
    let e = b.reception.sync().unwrap_err();
    assert_eq!(reason(&e), "log_truncated", "{e:?}");
    b.doctor.forget_client();
    let e = b.doctor.sync().unwrap_err();
    assert_eq!(reason(&e), "log_truncated", "{e:?}");
}

#[test]
fn an_edited_server_log_is_detected_at_the_next_sync() {
    let mut b = Branch::new();
    let rita = b.reception.login("rita");
    b.reception
        .ws()
        .patients()
        .register(&rita, &patient("Before Edit", "0796666666"))
        .unwrap();
    b.reception.sync().unwrap();
    b.doctor.sync().unwrap();
    b.server.kill();
    // Flip a verdict, as someone hiding a refusal (or inventing one) would.
    b.server
        .db()
        .execute(
            "UPDATE record_log SET verdict = 'refused', reason = 'forbidden' WHERE log_index = 3",
            [],
        )
        .unwrap();
    b.server.restart();
    b.doctor.forget_client();
    let e = b.doctor.sync().unwrap_err();
    assert_eq!(reason(&e), "log_rewritten", "{e:?}");
}

#[test]
fn a_device_offering_another_record_at_a_logged_seq_is_a_quarantined_fork() {
    let mut b = Branch::new();
    // A backup of the reception desk, taken now...
    let backup = b.root.path().join("reception-backup");
    copy_dir(&b.reception.dir, &backup);
    let rita = b.reception.login("rita");
    b.reception
        .ws()
        .patients()
        .register(&rita, &patient("Original", "0797777777"))
        .unwrap();
    b.reception.sync().unwrap();
    // ...restored and used: its next records reuse seqs the log already holds.
    let mut restored = Station::open(&backup);
    let rita = restored.login("rita");
    restored
        .ws()
        .patients()
        .register(&rita, &patient("Diverged", "0798888888"))
        .unwrap();
    let e = restored.sync().unwrap_err();
    assert_eq!(reason(&e), "fork", "{e:?}");
    assert_eq!(count(&b.server.db(), "SELECT count(*) FROM quarantine"), 1);
    assert!(b.server.cli(&["alerts"]).contains("quarantined forks: 1"));
    assert_eq!(
        count(
            &b.server.db(),
            "SELECT count(*) FROM patients WHERE name_en = 'Diverged'"
        ),
        0
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_device_with_a_wrong_clock_still_syncs_but_is_warned_and_its_records_flagged() {
    let mut b = Branch::new();
    // The doctor's machine runs three hours fast.
    let ahead = dentpro_core::clock::ManualClock::new(chrono::Utc::now() + chrono::Duration::hours(3));
    let doctor_dir = b.doctor.dir.clone();
    drop(std::mem::replace(
        &mut b.doctor,
        Station::open(&b.root.path().join("spare")),
    ));
    let mut doctor = Station::open_with_clock(&doctor_dir, std::sync::Arc::new(ahead));
    let dana = doctor.login("dana");
    let rita = b.reception.login("rita");
    let p = b
        .reception
        .ws()
        .patients()
        .register(&rita, &patient("Clock Test", "0799999999"))
        .unwrap();
    b.reception.sync().unwrap();
    doctor.sync().unwrap();
    doctor.ws().patients().open(&dana, &p.id).unwrap();
    let report = doctor.sync().unwrap();
    let skew = report.clock_skew_seconds.expect("the skew is reported");
    assert!((3 * 3600 - 60..=3 * 3600 + 60).contains(&skew), "{skew}");
    // The server flagged the records of that push; the log order is still the server's.
    let device = doctor.device_id();
    let flagged = count(
        &b.server.db(),
        &format!(
            "SELECT count(*) FROM record_log l JOIN records r ON r.local_index = l.local_index
             WHERE r.device_id = '{device}' AND l.clock_skew_seconds IS NOT NULL"
        ),
    );
    assert!(flagged >= 2, "{flagged}");
    // The reception desk (right clock) is not flagged, and sees the doctor's records in log order.
    assert_eq!(b.reception.sync().unwrap().clock_skew_seconds, None);
    assert_eq!(
        count(
            &b.reception.db(),
            &format!(
                "SELECT count(*) FROM record_log l JOIN records r ON r.local_index = l.local_index WHERE r.device_id = '{device}' AND l.clock_skew_seconds IS NOT NULL"
            )
        ),
        flagged
    );
}

/// Each sync says how many DPoP proofs it presented: the figure that the server's per-device
/// replay bound must cover within a proof window (the sync bench prints it for a catch-up).
#[test]
fn a_sync_counts_the_proofs_it_presents() {
    let mut b = Branch::new();
    // Nothing new either way, under a token already held: the state call, one empty pull, and
    // the push that repeats the last logged record (the fork check).
    let quiet = b.doctor.sync().unwrap();
    assert_eq!(quiet.requests, 3, "{quiet:?}");
    // A new client (the app started again) asks for a token first: one proof more.
    b.doctor.forget_client();
    let fresh = b.doctor.sync().unwrap();
    assert_eq!(fresh.requests, quiet.requests + 1, "{fresh:?}");
}
