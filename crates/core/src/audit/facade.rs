//! The audit area's commands: the trail, verification (recorded, and what it finds stops sync),
//! the verification report as a PDF, and reading a printed document back.

use super::{AuditFilter, AuditPage, VerifyReport, queries, rules};
use crate::documents::audit_report::{self, DocumentRef};
use crate::documents::{self, Document, DocumentStore};
use crate::ids::SessionId;
use crate::permissions::Action;
use crate::{Result, Workstation};

/// `ws.audit()`: authorize → the audit rules → append.
pub struct Audit<'w> {
    ws: &'w mut Workstation,
}

impl Workstation {
    pub fn audit(&mut self) -> Audit<'_> {
        Audit { ws: self }
    }
}

impl Audit<'_> {
    pub fn trail(&mut self, session: &SessionId, filter: &AuditFilter) -> Result<AuditPage> {
        self.ws.authorize(session, Action::AuditView)?;
        queries::trail(self.ws.ledger().conn(), filter)
    }

    /// Verifies the chain, the anchor, the projections and the file; the run is itself
    /// recorded, and a problem it finds stops sync until a later run finds none.
    pub fn verify(&mut self, session: &SessionId) -> Result<VerifyReport> {
        let actor = self.ws.authorize(session, Action::AuditVerify)?;
        let report = rules::verify_here(self.ws.ledger().conn(), self.ws.data_dir(), self.ws.device_id())?;
        self.ws.set_integrity_problem(rules::integrity_problem(&report));
        self.ws
            .ledger_mut()
            .append(&actor, rules::verified(&report).into())?;
        Ok(report)
    }

    /// Verifies (recorded as [`Self::verify`] does) and prints what it found as a PDF in the
    /// user's language (`audit.report_generated`); the outbox stores the document.
    pub fn report(&mut self, session: &SessionId) -> Result<DocumentRef> {
        let report = self.verify(session)?;
        let actor = self.ws.authorize(session, Action::AuditVerify)?;
        audit_report::print(self.ws.ledger_mut(), &actor, &report)
    }

    /// A document this workstation printed, decrypted, to show or save.
    pub fn read_document(&mut self, session: &SessionId, document_id: &str) -> Result<Document> {
        self.ws.authorize(session, Action::AuditView)?;
        let store = DocumentStore::new(self.ws.data_dir(), self.ws.ledger().identity());
        documents::read(self.ws.ledger().conn(), &store, document_id)
    }
}
