//! Acting on an edit conflict from the patient's file: apply the losing edit's value after all,
//! or keep the current one. Conflicts are made the way a pull makes them (`common::make_conflict`:
//! another desk's edit of the same field lands in the log after this desk's).

mod common;

use common::*;
use dentpro_core::demo::demo_patient;
use dentpro_core::ids::{PatientId, RecordId, SessionId};
use dentpro_core::patients::ConflictDecision;
use dentpro_core::patients::{self, ConflictOutcome, PatientConflictResolved, ResolvedConflict};
use dentpro_core::permissions::Role;
use dentpro_core::sync::{LogPosition, LoggedRecord, Verdict};
use dentpro_core::{ErrorCode, Workstation, audit};

struct Desk {
    _dir: tempfile::TempDir,
    ws: Workstation,
    admin: SessionId,
    other: OtherDesk,
    patient_id: PatientId,
    /// The other desk's losing edit of the phone.
    conflict: RecordId,
}

const HERE: &str = "0792222222";
const ELSEWHERE: &str = "0793333333";

/// A workstation whose patient has one open conflict: the phone was set to `HERE` here, and the
/// other desk's `ELSEWHERE` lost.
fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let patient_id = ws
        .patients()
        .register(&admin.session_id, &demo_patient(1))
        .unwrap()
        .id;
    let mut other = OtherDesk::new();
    let conflict = make_conflict(
        &mut ws,
        &admin.session_id,
        &mut other,
        &patient_id,
        "phone",
        HERE,
        ELSEWHERE,
    );
    Desk {
        _dir: dir,
        ws,
        admin: admin.session_id,
        other,
        patient_id,
        conflict,
    }
}

impl Desk {
    fn login(&mut self, role: Role) -> SessionId {
        let username = format!("user.{role}");
        self.ws
            .accounts()
            .create_user(&self.admin, &new_user(&username, role))
            .unwrap();
        self.ws.login(&username, PASSWORD).unwrap().session_id
    }

    fn phone(&self) -> String {
        patients::get(self.ws.ledger().conn(), &self.patient_id)
            .unwrap()
            .fields
            .phone
    }

    /// Records the other desk wrote, pulled (logged after everything logged so far).
    fn pull(&mut self, records: Vec<dentpro_core::record::Record>) -> dentpro_core::sync::PullOutcome {
        let mut next = self.ws.sync().cursor().unwrap();
        let entries: Vec<LoggedRecord> = records
            .into_iter()
            .map(|record| {
                next += 1;
                LoggedRecord {
                    position: LogPosition {
                        log_index: next - 1,
                        verdict: Verdict::Accepted,
                        reason: None,
                        clock_skew_seconds: None,
                        leaf_version: Default::default(),
                    },
                    record,
                }
            })
            .collect();
        self.ws.sync().apply_pulled(&entries).unwrap()
    }

    /// The chain verifies and the live projections equal a rebuild from the records.
    fn assert_consistent(&self) {
        let conn = self.ws.ledger().conn();
        let report = audit::verify(conn, Some(self.ws.data_dir()), Some(self.ws.device_id())).unwrap();
        assert!(report.ok, "{report:?}");
        assert_eq!(audit::compare_projections(conn).unwrap(), None);
        let rebuilt = audit::rebuild(conn).unwrap();
        assert_eq!(
            audit::dump_projections(&rebuilt).unwrap(),
            audit::dump_projections(conn).unwrap()
        );
    }

    fn snapshot(&self) -> (i64, Vec<(String, Vec<String>)>) {
        (
            record_count(&self.ws),
            audit::dump_projections(self.ws.ledger().conn()).unwrap(),
        )
    }
}

/// The newest `n` records, oldest first: (kind, seq, payload).
fn last_records(ws: &Workstation, n: usize) -> Vec<(String, i64, String)> {
    let mut rows: Vec<(String, i64, String)> = ws
        .ledger()
        .conn()
        .prepare("SELECT kind, seq, CAST(payload AS TEXT) FROM records ORDER BY local_index DESC LIMIT ?1")
        .unwrap()
        .query_map([n as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    rows.reverse();
    rows
}

#[test]
fn the_conflict_is_shown_open_on_the_file() {
    let mut d = desk();
    assert_eq!(d.phone(), HERE);
    let file = d.ws.patients().open(&d.admin, &d.patient_id).unwrap();
    assert_eq!(file.conflicts.len(), 1, "{:?}", file.conflicts);
    let c = &file.conflicts[0];
    assert_eq!(c.record_id, d.conflict);
    assert_eq!(
        (c.field.as_str(), c.proposed.as_str(), c.kept.as_str()),
        ("phone", ELSEWHERE, HERE)
    );
    assert_eq!(c.device_id, d.other.device_id.as_str());
    assert!(c.resolution.is_none());
    d.assert_consistent();
}

#[test]
fn applying_the_other_value_edits_the_field_and_closes_the_conflict_in_one_step() {
    let mut d = desk();
    let doctor = d.login(Role::Doctor);
    let doctor_id = d.ws.status(Some(&doctor)).unwrap().session.unwrap().user_id;
    let seq_before = d.ws.ledger().head().seq as i64;
    let file =
        d.ws.patients()
            .resolve_conflict(
                &doctor,
                &d.patient_id,
                &d.conflict,
                "phone",
                ConflictDecision::ApplyLosingEdit,
            )
            .unwrap();
    assert_eq!(file.patient.fields.phone, ELSEWHERE);
    assert_eq!(d.phone(), ELSEWHERE);
    assert!(file.conflicts.is_empty(), "{:?}", file.conflicts);

    // Two records, appended together: a normal edit from the current value, then the resolution.
    let last = last_records(&d.ws, 2);
    assert_eq!(last[0].0, "patient.updated");
    assert_eq!(last[1].0, "patient.conflict_resolved");
    assert_eq!((last[0].1, last[1].1), (seq_before + 1, seq_before + 2));
    let edit: patients::PatientUpdated = serde_json::from_str(&last[0].2).unwrap();
    assert_eq!(edit.changes.len(), 1);
    assert_eq!(
        (
            edit.changes[0].field.as_str(),
            edit.changes[0].from.as_str(),
            edit.changes[0].to.as_str()
        ),
        ("phone", HERE, ELSEWHERE)
    );
    let resolved: PatientConflictResolved = serde_json::from_str(&last[1].2).unwrap();
    assert_eq!(
        resolved,
        PatientConflictResolved {
            patient_id: d.patient_id.clone(),
            record_id: d.conflict.clone(),
            field: "phone".into(),
            outcome: ConflictOutcome::Applied,
        }
    );

    // The history shows both; the conflict row stays, marked resolved.
    let tail: Vec<&str> = file
        .history
        .iter()
        .rev()
        .take(2)
        .map(|h| h.kind.as_str())
        .collect();
    assert_eq!(tail, ["patient.conflict_resolved", "patient.updated"]);
    let entry = file.history.last().unwrap();
    assert_eq!(entry.resolved.clone(), Some(ResolvedConflict::from(resolved)));
    assert_eq!(entry.by_user_id.as_deref(), Some(doctor_id.as_str()));
    let all = patients::conflicts(d.ws.ledger().conn(), &d.patient_id).unwrap();
    assert_eq!(all.len(), 1);
    let resolution = all[0].resolution.as_ref().expect("resolved");
    assert_eq!(resolution.outcome, ConflictOutcome::Applied);
    assert_eq!(resolution.by_user_id.as_deref(), Some(doctor_id.as_str()));
    assert!(!resolution.at.is_empty());
    assert_eq!(all[0].proposed, ELSEWHERE, "nothing of the conflict is lost");
    // The search index follows the edit.
    assert_eq!(d.ws.patients().search(&doctor, ELSEWHERE, 5).unwrap().len(), 1);
    d.assert_consistent();

    // Resolving it again is refused and changes nothing.
    let before = d.snapshot();
    for apply in [true, false] {
        let err = assert_code(
            d.ws.patients().resolve_conflict(
                &doctor,
                &d.patient_id,
                &d.conflict,
                "phone",
                if apply {
                    ConflictDecision::ApplyLosingEdit
                } else {
                    ConflictDecision::KeepCurrent
                },
            ),
            ErrorCode::Conflict,
        );
        assert_eq!(
            err.details.get("reason").map(String::as_str),
            Some("conflict_already_resolved")
        );
    }
    assert_eq!(d.snapshot(), before);
}

#[test]
fn keeping_the_current_value_only_closes_the_conflict() {
    let mut d = desk();
    let assistant = d.login(Role::Assistant);
    let records = record_count(&d.ws);
    let file =
        d.ws.patients()
            .resolve_conflict(
                &assistant,
                &d.patient_id,
                &d.conflict,
                "phone",
                ConflictDecision::KeepCurrent,
            )
            .unwrap();
    assert_eq!(file.patient.fields.phone, HERE);
    assert!(file.conflicts.is_empty());
    assert_eq!(record_count(&d.ws), records + 1);
    let (kind, _, role) = last_record(&d.ws);
    assert_eq!(
        (kind.as_str(), role.as_deref()),
        ("patient.conflict_resolved", Some("assistant"))
    );
    let entry = file.history.last().unwrap();
    assert_eq!(
        entry.resolved.as_ref().map(|r| r.outcome),
        Some(ConflictOutcome::Dismissed)
    );
    let all = patients::conflicts(d.ws.ledger().conn(), &d.patient_id).unwrap();
    assert_eq!(
        all[0].resolution.as_ref().map(|r| r.outcome),
        Some(ConflictOutcome::Dismissed)
    );
    d.assert_consistent();
    let before = d.snapshot();
    let err = assert_code(
        d.ws.patients().resolve_conflict(
            &assistant,
            &d.patient_id,
            &d.conflict,
            "phone",
            ConflictDecision::ApplyLosingEdit,
        ),
        ErrorCode::Conflict,
    );
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("conflict_already_resolved")
    );
    assert_eq!(d.snapshot(), before);
    assert_eq!(d.phone(), HERE);
}

#[test]
fn a_conflict_the_file_does_not_have_is_not_found() {
    let mut d = desk();
    let before = d.snapshot();
    let other_patient = d.ws.patients().register(&d.admin, &demo_patient(2)).unwrap().id;
    let before_calls = d.snapshot();
    assert_ne!(before, before_calls);
    for (patient, record, field) in [
        (
            d.patient_id.clone(),
            "0190aaaa-0000-7000-8000-000000000000".into(),
            "phone",
        ),
        (d.patient_id.clone(), d.conflict.clone(), "address"),
        (other_patient, d.conflict.clone(), "phone"),
    ] {
        let err = assert_code(
            d.ws.patients().resolve_conflict(
                &d.admin,
                &patient,
                &record,
                field,
                ConflictDecision::ApplyLosingEdit,
            ),
            ErrorCode::NotFound,
        );
        assert_eq!(
            err.details.get("reason").map(String::as_str),
            Some("conflict_not_found"),
            "{err:?}"
        );
    }
    assert_code(
        d.ws.patients().resolve_conflict(
            &d.admin,
            &"no-such-patient".into(),
            &d.conflict,
            "phone",
            ConflictDecision::ApplyLosingEdit,
        ),
        ErrorCode::NotFound,
    );
    assert_eq!(d.snapshot(), before_calls);
}

#[test]
fn roles_without_patient_edit_are_refused_and_the_attempt_is_recorded() {
    let mut d = desk();
    for role in [Role::Manager, Role::Cashier] {
        let session = d.login(role);
        let before = d.snapshot();
        let err = assert_code(
            d.ws.patients().resolve_conflict(
                &session,
                &d.patient_id,
                &d.conflict,
                "phone",
                ConflictDecision::ApplyLosingEdit,
            ),
            ErrorCode::Forbidden,
        );
        assert_eq!(
            err.details.get("action").map(String::as_str),
            Some("patient_edit")
        );
        assert_eq!(record_count(&d.ws), before.0 + 1, "{role}: one record");
        let (kind, _, last_role) = last_record(&d.ws);
        assert_eq!(
            (kind.as_str(), last_role.as_deref()),
            ("access.denied", Some(role.as_str()))
        );
        let payload = &last_records(&d.ws, 1)[0].2;
        assert!(payload.contains(d.patient_id.as_str()), "{payload}");
        assert_eq!(
            audit::dump_projections(d.ws.ledger().conn()).unwrap(),
            before.1,
            "{role} changed a table"
        );
    }
    assert_eq!(d.phone(), HERE);
    let file = d.ws.patients().open(&d.admin, &d.patient_id).unwrap();
    assert_eq!(file.conflicts.len(), 1);
    d.assert_consistent();
}

#[test]
fn a_resolution_of_a_conflict_this_desk_does_not_have_is_a_no_op() {
    let mut d = desk();
    let admin_id = d.ws.status(Some(&d.admin)).unwrap().session.unwrap().user_id;
    let before = audit::dump_projections(d.ws.ledger().conn()).unwrap();
    let stray = d.other.write(
        &admin_id,
        PatientConflictResolved {
            patient_id: d.patient_id.clone(),
            record_id: "0190aaaa-0000-7000-8000-000000000000".into(),
            field: "phone".into(),
            outcome: ConflictOutcome::Dismissed,
        }
        .into(),
    );
    let outcome = d.pull(stray);
    assert_eq!(outcome.applied, 1);
    assert_eq!(audit::dump_projections(d.ws.ledger().conn()).unwrap(), before);
    let file = d.ws.patients().open(&d.admin, &d.patient_id).unwrap();
    assert_eq!(file.conflicts.len(), 1, "the real conflict is still open");
    assert_eq!(
        file.history
            .iter()
            .filter(|h| h.kind == "patient.conflict_resolved")
            .count(),
        1,
        "the stray resolution is on the record all the same"
    );
    d.assert_consistent();
}

#[test]
fn two_desks_resolving_one_conflict_offline_the_first_in_the_log_wins() {
    let mut d = desk();
    let admin_id = d.ws.status(Some(&d.admin)).unwrap().session.unwrap().user_id;
    // Here: apply the other desk's value (pending, not yet pushed).
    d.ws.patients()
        .resolve_conflict(
            &d.admin,
            &d.patient_id,
            &d.conflict,
            "phone",
            ConflictDecision::ApplyLosingEdit,
        )
        .unwrap();
    assert_eq!(d.phone(), ELSEWHERE);
    // Meanwhile the other desk kept the current value, and its resolution reached the log first.
    let theirs = d.other.write(
        &admin_id,
        PatientConflictResolved {
            patient_id: d.patient_id.clone(),
            record_id: d.conflict.clone(),
            field: "phone".into(),
            outcome: ConflictOutcome::Dismissed,
        }
        .into(),
    );
    let theirs_id = theirs.last().unwrap().body.id.clone();
    let outcome = d.pull(theirs);
    assert!(outcome.reprojected, "{outcome:?}");
    // Their resolution closed the conflict; this desk's edit is an ordinary edit made after it
    // (from the value it saw, which still held), and its resolution a no-op.
    let all = patients::conflicts(d.ws.ledger().conn(), &d.patient_id).unwrap();
    assert_eq!(all.len(), 1);
    let resolution = all[0].resolution.as_ref().unwrap();
    assert_eq!(resolution.outcome, ConflictOutcome::Dismissed);
    assert_eq!(resolution.record_id, theirs_id.as_str());
    assert_eq!(d.phone(), ELSEWHERE);
    let file = d.ws.patients().open(&d.admin, &d.patient_id).unwrap();
    assert!(file.conflicts.is_empty());
    assert_eq!(
        file.history
            .iter()
            .filter(|h| h.kind == "patient.conflict_resolved")
            .count(),
        2
    );
    d.assert_consistent();
}
