//! The audit trail, its verification, the printed report and reading it back.

use super::{Area, CommandCase};
use dentpro_core::audit::AuditFilter;
use dentpro_core::permissions::Action;

/// The document id of a printed report.
pub struct Printed(pub String);

pub static AREA: Area = Area {
    name: "audit",
    // A report the admin printed, stored by the outbox, for reading back.
    prepare: |b| {
        let admin = b.admin();
        let printed = b.ws.audit().report(&admin).unwrap();
        b.ws.outbox().run().unwrap();
        b.set_fixture(Printed(printed.document_id));
    },
    commands: &[
        CommandCase {
            name: "audit.trail",
            action: Some(Action::AuditView),
            writes: None,
            run: |b, c| {
                let filter = AuditFilter {
                    limit: 50,
                    ..Default::default()
                };
                b.ws.audit().trail(&c.session, &filter).map(drop)
            },
        },
        CommandCase {
            name: "audit.verify",
            action: Some(Action::AuditVerify),
            writes: Some("audit.verified"),
            run: |b, c| b.ws.audit().verify(&c.session).map(|r| assert!(r.ok, "{r:?}")),
        },
        CommandCase {
            name: "audit.report",
            action: Some(Action::AuditVerify),
            writes: Some("audit.report_generated"),
            run: |b, c| b.ws.audit().report(&c.session).map(drop),
        },
        CommandCase {
            name: "audit.read_document",
            action: Some(Action::AuditView),
            writes: None,
            run: |b, c| {
                let Printed(document) = b.fixture::<Printed>();
                let document = document.clone();
                b.ws.audit()
                    .read_document(&c.session, &document)
                    .map(|d| assert_eq!(d.media_type, "application/pdf"))
            },
        },
    ],
    // A refusal: the reception desk (signed in afresh) asks for the trail.
    other_records: |b| {
        let desk = b.ws.login("user.receptionist", super::super::PASSWORD).unwrap();
        b.ws.audit()
            .trail(&desk.session_id, &AuditFilter::default())
            .unwrap_err();
    },
};
