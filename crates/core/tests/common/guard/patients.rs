//! Patients: search, registration, edits, opening a file, edit conflicts.

use super::super::*;
use super::{Area, CommandCase, NO_SUCH_ID};
use dentpro_core::demo::demo_patient;
use dentpro_core::patients::ConflictDecision;
use dentpro_core::permissions::Action;

pub static AREA: Area = Area {
    name: "patients",
    prepare: |_| {},
    commands: &[
        CommandCase {
            name: "patients.search",
            action: Some(Action::PatientSearch),
            writes: None,
            run: |b, c| b.ws.patients().search(&c.session, "a", 10).map(drop),
        },
        CommandCase {
            name: "patients.register",
            action: Some(Action::PatientRegister),
            writes: Some("patient.registered"),
            run: |b, c| b.ws.patients().register(&c.session, &demo_patient(100 + c.n)).map(drop),
        },
        CommandCase {
            name: "patients.update",
            action: Some(Action::PatientEdit),
            writes: Some("patient.updated"),
            run: |b, c| {
                let mut input = dentpro_core::patients::get(b.ws.ledger().conn(), &b.patient_id)
                    .unwrap()
                    .fields;
                input.address = format!("{} street {}", c.role, c.n);
                b.ws.patients()
                    .update(&c.session, &b.patient_id, &input)
                    .map(|p| assert_eq!(p.fields.address, input.address))
            },
        },
        CommandCase {
            name: "patients.open",
            action: Some(Action::PatientView),
            writes: Some("patient.viewed"),
            run: |b, c| {
                b.ws.patients()
                    .open(&c.session, &b.patient_id)
                    .map(|f| assert_eq!(f.patient.id, b.patient_id))
            },
        },
        CommandCase {
            name: "patients.resolve_conflict",
            action: Some(Action::PatientEdit),
            writes: Some("patient.conflict_resolved"),
            // A role that may not edit the file is refused before the conflict is looked at;
            // one that may resolves a real one, made first (as an edit of its own).
            run: |b, c| {
                let field = "emergency_contact";
                let conflict = if c.allowed {
                    let (here, elsewhere) = (format!("{} here {}", c.role, c.n), format!("{} elsewhere {}", c.role, c.n));
                    make_conflict(&mut b.ws, &c.session, &mut b.other_desk, &b.patient_id, field, &here, &elsewhere)
                } else {
                    NO_SUCH_ID.into()
                };
                let apply = c.n.is_multiple_of(2);
                let decision = if apply {
                    ConflictDecision::ApplyLosingEdit
                } else {
                    ConflictDecision::KeepCurrent
                };
                b.ws.patients()
                    .resolve_conflict(&c.session, &b.patient_id, &conflict, field, decision)
                    .map(|f| {
                        assert!(f.conflicts.is_empty(), "{:?}", f.conflicts);
                        let wanted = if apply { "elsewhere" } else { "here" };
                        assert!(f.patient.fields.emergency_contact.contains(wanted));
                    })
            },
        },
    ],
    other_records: |_| {},
};
