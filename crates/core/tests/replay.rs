//! Incremental replay: when pulled records land before this desk's pending ones, or the branch
//! server refuses one of its records, only the affected subjects' projections are replayed —
//! and they come out exactly as a full rebuild from the records (table contents, search
//! results, `audit::verify`).
//!
//! Each test plants a "canary" first: a hand-made change to a row of a subject the replay must
//! not touch. A full replay would wipe it; an incremental one leaves it, which is how the tests
//! see that only the affected subjects were replayed. The canary is undone before comparing
//! with a full rebuild.

mod common;

use common::desk::{Desk, desk};
use common::*;
use dentpro_core::accounts::{CashierTerminalsSet, PasswordReset, UserCreated};
use dentpro_core::clock::Clock;
use dentpro_core::demo::demo_patient;
use dentpro_core::devices::{DeviceKind, DeviceRevoked};
use dentpro_core::ids::{PatientId, RecordId, UserId};
use dentpro_core::patients::ConflictDecision;
use dentpro_core::patients::{self, FieldChange, PatientRegistered, PatientUpdated};
use dentpro_core::permissions::Role;
use dentpro_core::{audit, registry, replay};
use rusqlite::Connection;
use std::collections::BTreeSet;

const HERE: &str = "0792222222";
const ELSEWHERE: &str = "0793333333";

impl Desk {
    fn register(&mut self, n: usize) -> PatientId {
        self.ws
            .patients()
            .register(&self.admin, &demo_patient(n))
            .unwrap()
            .id
    }

    fn edit(&mut self, patient_id: &PatientId, field: &str, value: &str) {
        let mut edited =
            serde_json::to_value(patients::get(self.conn(), patient_id).unwrap().fields).unwrap();
        edited[field] = serde_json::Value::String(value.to_owned());
        self.ws
            .patients()
            .update(&self.admin, patient_id, &serde_json::from_value(edited).unwrap())
            .unwrap();
    }

    fn user(&mut self, username: &str, role: Role) -> UserId {
        self.ws
            .accounts()
            .create_user(&self.admin, &new_user(username, role))
            .unwrap()
            .id
    }

    /// A hand-made change to one row, which only a replay of that row's subject would undo.
    fn plant(&self, canary: &Canary) {
        let n = self
            .conn()
            .execute(
                &format!(
                    "UPDATE {} SET {} = 'CANARY' WHERE id = ?1",
                    canary.table, canary.column
                ),
                [&canary.id],
            )
            .unwrap();
        assert_eq!(n, 1);
    }

    /// Whether the canary is still there; removes it.
    fn take(&self, canary: &Canary) -> bool {
        let value: String = self
            .conn()
            .query_row(
                &format!("SELECT {} FROM {} WHERE id = ?1", canary.column, canary.table),
                [&canary.id],
                |r| r.get(0),
            )
            .unwrap();
        self.conn()
            .execute(
                &format!("UPDATE {} SET {} = ?2 WHERE id = ?1", canary.table, canary.column),
                [&canary.id, &canary.value],
            )
            .unwrap();
        value == "CANARY"
    }

    /// The chain verifies, and the live projections equal a full rebuild from the records:
    /// every table's rows, and what searches find.
    fn assert_matches_full_rebuild(&self) {
        let conn = self.conn();
        let report = audit::verify(conn, Some(self.ws.data_dir()), Some(self.ws.device_id())).unwrap();
        assert!(report.ok, "{report:?}");
        assert_eq!(audit::compare_projections(conn).unwrap(), None);
        let rebuilt = audit::rebuild(conn).unwrap();
        assert_eq!(
            audit::dump_projections(&rebuilt).unwrap(),
            audit::dump_projections(conn).unwrap()
        );
        let queries = ["", "0792", "0793", "0791", "Patient", "ahmad", "محمد", "TST", "1"];
        let station = &self.ws.device_id()[..4];
        for query in queries.iter().copied().chain([station]) {
            assert_eq!(found(conn, query), found(&rebuilt, query), "search {query:?}");
        }
    }
}

/// A row a replay must leave alone, and its true value.
struct Canary {
    table: &'static str,
    column: &'static str,
    id: String,
    value: String,
}

fn canary(conn: &Connection, table: &'static str, column: &'static str, id: &str) -> Canary {
    let value = conn
        .query_row(
            &format!("SELECT {column} FROM {table} WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .unwrap();
    Canary {
        table,
        column,
        id: id.to_owned(),
        value,
    }
}

/// What a search finds, in a stable order (the order of equal matches is the search index's
/// row order, which edits change anyway).
fn found(conn: &Connection, query: &str) -> Vec<String> {
    let mut ids: Vec<String> = patients::search(conn, query, 100)
        .unwrap()
        .into_iter()
        .map(|p| format!("{} {} {}", p.id, p.file_number, p.phone))
        .collect();
    ids.sort();
    ids
}

fn phone(conn: &Connection, patient_id: &PatientId) -> String {
    patients::get(conn, patient_id).unwrap().fields.phone
}

#[test]
fn a_patient_edit_conflict_replays_only_that_patient() {
    let mut d = desk();
    let patient = d.register(1);
    let bystander = d.register(2);
    d.push(|_| false);
    let before = patients::get(d.conn(), &patient).unwrap().fields;
    // Here: the phone becomes HERE (pending). Meanwhile another desk set it to ELSEWHERE, and
    // its edit reached the log first.
    d.edit(&patient, "phone", HERE);
    assert_eq!(found(d.conn(), HERE).len(), 1);
    let bystander_name = canary(d.conn(), "patients", "name_en", &bystander);
    d.plant(&bystander_name);
    let (outcome, theirs) = d.pull_theirs(
        PatientUpdated {
            patient_id: patient.clone(),
            changes: vec![FieldChange {
                field: "phone".into(),
                from: before.phone.clone(),
                to: ELSEWHERE.into(),
            }],
        }
        .into(),
    );
    assert!(outcome.reprojected, "{outcome:?}");
    assert!(d.take(&bystander_name), "only the edited patient was replayed");
    // Theirs first: the file shows their phone, this desk's edit is kept as a conflict.
    assert_eq!(phone(d.conn(), &patient), ELSEWHERE);
    let conflicts = patients::conflicts(d.conn(), &patient).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(
        (conflicts[0].proposed.as_str(), conflicts[0].kept.as_str()),
        (HERE, ELSEWHERE)
    );
    assert_ne!(conflicts[0].record_id, RecordId::from(theirs.body.id.as_str()));
    assert!(
        found(d.conn(), HERE).is_empty(),
        "the search row follows the replayed file"
    );
    assert_eq!(found(d.conn(), ELSEWHERE).len(), 1);
    d.assert_matches_full_rebuild();

    // The push: the server logs this desk's edit after theirs; nothing changes.
    let snapshot = audit::dump_projections(d.conn()).unwrap();
    d.push(|_| false);
    assert_eq!(audit::dump_projections(d.conn()).unwrap(), snapshot);
    d.assert_matches_full_rebuild();
}

fn password_hash(conn: &Connection, user_id: &str) -> String {
    conn.query_row("SELECT password_hash FROM users WHERE id = ?1", [user_id], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn a_user_account_change_conflict_replays_only_that_account() {
    let mut d = desk();
    let rita = d.user("rita", Role::Receptionist);
    let bystander = d.user("sami", Role::Doctor);
    for _ in 0..3 {
        let session = d.ws.login("rita", PASSWORD).unwrap();
        d.ws.logout(&session.session_id).unwrap();
    }
    d.push(|_| false);
    // Here: rita is deactivated (pending). Meanwhile another desk reset her password, and that
    // reached the log first.
    d.ws.accounts().deactivate(&d.admin, &rita).unwrap();
    let bystander_name = canary(d.conn(), "users", "display_name", &bystander);
    d.plant(&bystander_name);
    let theirs = dentpro_core::accounts::hash_password("another-pass-1").unwrap();
    let (outcome, _) = d.pull_theirs(
        PasswordReset {
            user_id: rita.clone(),
            password_hash: theirs.clone(),
        }
        .into(),
    );
    assert!(outcome.reprojected, "{outcome:?}");
    assert!(d.take(&bystander_name), "only rita's account was replayed");
    // Both apply, in log order: her new password, and deactivated after it.
    let user = dentpro_core::accounts::user_by_id(d.conn(), &rita).unwrap();
    assert!(!user.active);
    assert_eq!(password_hash(d.conn(), &rita), theirs);
    d.assert_matches_full_rebuild();

    d.push(|_| false);
    d.assert_matches_full_rebuild();
}

#[test]
fn one_username_created_at_two_desks_goes_to_the_first_in_the_log() {
    let mut d = desk();
    let bystander = d.user("sami", Role::Doctor);
    d.push(|_| false);
    // Here: "sara" is created and given a new password (pending).
    let ours = d.user("sara", Role::Receptionist);
    d.ws.accounts()
        .reset_password(&d.admin, &ours, "another-pass-1")
        .unwrap();
    let bystander_name = canary(d.conn(), "users", "display_name", &bystander);
    d.plant(&bystander_name);
    // Another desk created its own "sara", first in the log.
    let theirs = UserId::generate();
    let (outcome, _) = d.pull_theirs(
        UserCreated {
            user_id: theirs.clone(),
            username: "sara".into(),
            display_name: "Sara (theirs)".into(),
            role: Role::Assistant,
            password_hash: dentpro_core::accounts::hash_password(PASSWORD).unwrap(),
            language: Default::default(),
        }
        .into(),
    );
    assert!(outcome.reprojected, "{outcome:?}");
    assert!(
        d.take(&bystander_name),
        "only the accounts named sara were replayed"
    );
    let sara = dentpro_core::accounts::user_by_username(d.conn(), "sara")
        .unwrap()
        .unwrap();
    assert_eq!(sara.id, theirs);
    assert!(dentpro_core::accounts::user_by_id(d.conn(), &ours).is_err());
    d.assert_matches_full_rebuild();

    // The server refuses this desk's "sara" and the reset of her password.
    d.plant(&bystander_name);
    d.push(|r| r.body.kind.starts_with("user."));
    assert!(d.take(&bystander_name));
    assert_eq!(
        dentpro_core::accounts::user_by_username(d.conn(), "sara")
            .unwrap()
            .unwrap()
            .id,
        theirs
    );
    d.assert_matches_full_rebuild();
}

#[test]
fn refused_own_records_leave_only_their_subjects() {
    let mut d = desk();
    let patient = d.register(1);
    let bystander = d.register(2);
    let cashier = d.user("cashy", Role::Cashier);
    d.push(|_| false);
    let before = phone(d.conn(), &patient);
    d.edit(&patient, "phone", HERE);
    d.ws.settings().set_idle_lock_minutes(&d.admin, 30).unwrap();
    let terminal = d.ws.device_id().to_owned();
    d.ws.accounts()
        .set_cashier_terminals(&d.admin, &cashier, std::slice::from_ref(&terminal))
        .unwrap();
    assert_eq!(phone(d.conn(), &patient), HERE);
    let bystander_name = canary(d.conn(), "patients", "name_en", &bystander);
    d.plant(&bystander_name);
    d.push(|r| {
        ["patient.updated", "settings.changed", "cashier.terminals_set"].contains(&r.body.kind.as_str())
    });
    assert!(
        d.take(&bystander_name),
        "only the refused records' subjects were replayed"
    );
    assert_eq!(phone(d.conn(), &patient), before);
    assert!(found(d.conn(), HERE).is_empty());
    assert_eq!(
        dentpro_core::settings::get(d.conn()).unwrap().idle_lock_minutes,
        dentpro_core::settings::DEFAULT_IDLE_LOCK_MINUTES
    );
    assert!(
        dentpro_core::accounts::cashier_terminals(d.conn(), &cashier)
            .unwrap()
            .is_empty()
    );
    d.assert_matches_full_rebuild();
}

#[test]
fn two_revocations_of_one_device_the_first_in_the_log_applies() {
    let mut d = desk();
    let chair_dir = tempfile::tempdir().unwrap();
    let (chair, records) = enrolled_device(chair_dir.path(), &clock(), DeviceKind::Doctor, "Chair 1");
    pull_into(&mut d.ws, &records);
    let bystander = d.register(1);
    d.push(|_| false);
    d.ws.devices().revoke(&d.admin, &chair, "stolen").unwrap();
    let bystander_name = canary(d.conn(), "patients", "name_en", &bystander);
    d.plant(&bystander_name);
    let (outcome, theirs) = d.pull_theirs(
        DeviceRevoked {
            device_id: chair.clone(),
            reason: "lost".into(),
        }
        .into(),
    );
    assert!(outcome.reprojected, "{outcome:?}");
    assert!(d.take(&bystander_name));
    let revocation = dentpro_core::devices::branch_devices(d.conn())
        .unwrap()
        .into_iter()
        .find(|x| x.device_id == chair.as_str())
        .unwrap()
        .revoked
        .unwrap();
    assert_eq!(revocation.reason, "lost");
    assert_eq!(revocation.by_device_id, theirs.body.device_id.as_str());
    d.assert_matches_full_rebuild();

    d.push(|r| r.body.kind == "device.revoked");
    d.assert_matches_full_rebuild();
}

/// Two patients with one file number (two devices sharing a station prefix): no subject names
/// the number, so the clash shows as another desk's accepted registration that does not apply
/// here, and everything is replayed.
#[test]
fn a_clash_no_subject_declares_falls_back_to_a_full_replay() {
    let mut d = desk();
    let bystander = d.register(1);
    d.push(|_| false);
    let ours = d.register(2);
    let file_number = patients::get(d.conn(), &ours).unwrap().file_number;
    let bystander_name = canary(d.conn(), "patients", "name_en", &bystander);
    d.plant(&bystander_name);
    let theirs = PatientId::generate();
    let (outcome, _) = d.pull_theirs(
        PatientRegistered {
            patient_id: theirs.clone(),
            file_number: file_number.clone(),
            fields: patients::validate(&demo_patient(3), d.clock.business_date()).unwrap(),
        }
        .into(),
    );
    assert!(outcome.reprojected, "{outcome:?}");
    assert!(!d.take(&bystander_name), "everything was replayed");
    assert_eq!(patients::get(d.conn(), &theirs).unwrap().file_number, file_number);
    assert!(
        patients::get(d.conn(), &ours).is_err(),
        "the pending registration no longer applies"
    );
    d.assert_matches_full_rebuild();
}

/// A desk with a record of nearly every kind, in sync with the log.
fn busy_desk() -> Desk {
    let mut d = desk();
    let users: Vec<(Role, UserId)> = Role::iter()
        .filter(|r| *r != Role::Admin)
        .map(|role| (role, d.user(&format!("user.{role}"), role)))
        .collect();
    let cashier = &users.iter().find(|(r, _)| *r == Role::Cashier).unwrap().1;
    let terminal = d.ws.device_id().clone();
    d.ws.accounts()
        .set_cashier_terminals(&d.admin, cashier, &[terminal])
        .unwrap();
    let session = d.ws.login("user.receptionist", PASSWORD).unwrap().session_id;
    d.ws.set_language(&session, dentpro_core::accounts::Language::Ar)
        .unwrap();
    assert!(
        d.ws.accounts()
            .create_user(&session, &new_user("nobody", Role::Doctor))
            .is_err()
    );
    d.ws.logout(&session).unwrap();
    assert!(d.ws.login("user.doctor", "wrong-password-1").is_err());
    assert!(d.ws.login("nobody.at.all", "wrong-password-1").is_err());
    let manager = &users.iter().find(|(r, _)| *r == Role::Manager).unwrap().1;
    d.ws.accounts()
        .reset_password(&d.admin, manager, "another-pass-1")
        .unwrap();
    let assistant = &users.iter().find(|(r, _)| *r == Role::Assistant).unwrap().1;
    d.ws.accounts().deactivate(&d.admin, assistant).unwrap();
    d.ws.accounts().reactivate(&d.admin, assistant).unwrap();
    d.ws.settings().set_idle_lock_minutes(&d.admin, 20).unwrap();
    let patients: Vec<PatientId> = (1..=4).map(|i| d.register(i)).collect();
    d.edit(&patients[0], "address", "Amman, Jabal Al-Weibdeh");
    d.ws.patients().open(&d.admin, &patients[1]).unwrap();
    d.push(|_| false);
    let conflict = make_conflict(
        &mut d.ws,
        &d.admin,
        &mut d.other,
        &patients[2],
        "phone",
        HERE,
        ELSEWHERE,
    );
    d.ws.patients()
        .resolve_conflict(
            &d.admin,
            &patients[2],
            &conflict,
            "phone",
            ConflictDecision::KeepCurrent,
        )
        .unwrap();
    let chair_dir = tempfile::tempdir().unwrap();
    let (chair, records) = enrolled_device(chair_dir.path(), &clock(), DeviceKind::Doctor, "Chair 1");
    pull_into(&mut d.ws, &records);
    d.ws.devices().revoke(&d.admin, &chair, "stolen").unwrap();
    d.pull_theirs(
        CashierTerminalsSet {
            user_id: cashier.clone(),
            device_ids: vec![],
        }
        .into(),
    );
    doctors_activity(&mut d, &users.iter().find(|(r, _)| *r == Role::Doctor).unwrap().1);
    d.ws.audit().verify(&d.admin).unwrap();
    d.ws.audit().report(&d.admin).unwrap();
    // Last: idling locks every session (the admin's too).
    let session = d.ws.login("user.receptionist", PASSWORD).unwrap().session_id;
    d.clock.advance(chrono::Duration::minutes(30));
    assert!(d.ws.heartbeat(&session).is_err(), "locked after idling");
    d.ws.unlock(&session, PASSWORD).unwrap();
    d.push(|_| false);
    d
}

/// A doctor's profile, hours, leave (one cancelled), an edit; a chair added and renamed.
fn doctors_activity(d: &mut Desk, doctor_user: &str) {
    use dentpro_core::doctors::*;
    let admin = d.admin.clone();
    let mut doctors = d.ws.doctors();
    let profile = DoctorInput {
        user_id: doctor_user.into(),
        name_en: "Lina Haddad".into(),
        name_ar: "لينا حداد".into(),
        specialty: Specialty::Orthodontics,
        licence: "RPL-1".into(),
    };
    let doctor = doctors.register(&admin, &profile).unwrap().id;
    let monday = DayHours {
        day: Weekday::Monday,
        intervals: vec![Interval {
            start: "09:00".into(),
            end: "13:00".into(),
        }],
    };
    doctors.set_hours(&admin, &doctor, &[monday]).unwrap();
    let off = LeaveInput {
        span: LeaveSpan::DayOff {
            date: "2026-03-09".into(),
        },
        note: "sick".into(),
    };
    let leave = doctors.add_leave(&admin, &doctor, &off).unwrap().id;
    doctors.cancel_leave(&admin, &doctor, &leave).unwrap();
    let edit = DoctorUpdate {
        name_en: "Dr Lina Haddad".into(),
        name_ar: profile.name_ar.clone(),
        specialty: Specialty::Endodontics,
        licence: "RPL-2".into(),
        status: Status::Active,
    };
    doctors.update(&admin, &doctor, &edit).unwrap();
    let labels = ChairInput {
        label_en: "Chair 1".into(),
        label_ar: "كرسي ١".into(),
    };
    let chair = doctors.add_chair(&admin, &labels).unwrap().id;
    let renamed = ChairUpdate {
        label_en: "Chair 1 (window)".into(),
        label_ar: labels.label_ar.clone(),
        status: Status::Retired,
    };
    doctors.update_chair(&admin, &chair, &renamed).unwrap();
}

/// Every record, with its local index and subjects.
fn subjects_by_record(conn: &Connection) -> Vec<(i64, String, Vec<String>)> {
    conn.prepare("SELECT local_index, kind, kind_version, payload FROM records ORDER BY local_index")
        .unwrap()
        .query_map([], |r| {
            let kind: String = r.get(1)?;
            let event = registry::decode(&kind, r.get(2)?, &r.get::<_, Vec<u8>>(3)?).unwrap();
            Ok((r.get(0)?, kind, event.subjects()))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Replay relies on every record about a subject being found through that subject's index:
/// a kind whose subject its finder misses would be left out of replays.
#[test]
fn every_record_about_a_subject_is_found_through_its_index() {
    let d = busy_desk();
    let all = subjects_by_record(d.conn());
    let kinds: BTreeSet<&str> = all.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, registry::kind_names().into_iter().collect());
    for (local_index, kind, subjects) in &all {
        for subject in subjects {
            let about = replay::records_about(d.conn(), subject).unwrap();
            assert!(
                about.contains(local_index),
                "{kind} #{local_index} not found as {subject}"
            );
        }
    }
}

/// Replaying every subject into empty tables skips the records that have no subject and reads
/// each subject's records through its index: if either missed something (a kind without
/// subjects that writes a row, a finder that misses a kind), this differs from a full rebuild.
#[test]
fn every_subject_replayed_into_empty_tables_gives_the_full_rebuild() {
    let d = busy_desk();
    let conn = d.conn();
    let subjects: BTreeSet<String> = subjects_by_record(conn)
        .into_iter()
        .flat_map(|(_, _, s)| s)
        .collect();
    let tx = conn.unchecked_transaction().unwrap();
    for table in dentpro_core::registry::projection_tables() {
        dentpro_core::registry::clear_projection(&tx, table).unwrap();
    }
    let replayed = replay::reproject(&tx, subjects).unwrap();
    assert!(
        matches!(replayed, replay::Replayed::Subjects { .. }),
        "{replayed:?}"
    );
    assert_eq!(audit::compare_projections(&tx).unwrap(), None);
    drop(tx);
    d.assert_matches_full_rebuild();
}
