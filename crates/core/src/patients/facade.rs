//! The patients area's commands: search, registration, edits, opening a file, and acting on an
//! edit conflict. Each action on one file names the patient in a refusal.

use super::{ConflictDecision, Patient, PatientFile, PatientInput, PatientSummary, queries, rules};
use crate::ids::{PatientId, RecordId, SessionId};
use crate::permissions::Action;
use crate::{Result, Workstation};

/// `ws.patients()`: authorize → the patients rules → append.
pub struct Patients<'w> {
    ws: &'w mut Workstation,
}

impl Workstation {
    pub fn patients(&mut self) -> Patients<'_> {
        Patients { ws: self }
    }
}

impl Patients<'_> {
    /// Type-ahead search: not recorded per keystroke (opening the file is).
    pub fn search(&mut self, session: &SessionId, query: &str, limit: u32) -> Result<Vec<PatientSummary>> {
        self.ws.authorize(session, Action::PatientSearch)?;
        queries::search(self.ws.ledger().conn(), query, limit)
    }

    pub fn register(&mut self, session: &SessionId, input: &PatientInput) -> Result<Patient> {
        let actor = self.ws.authorize(session, Action::PatientRegister)?;
        rules::register(self.ws.ledger_mut(), &actor, input)
    }

    pub fn update(
        &mut self,
        session: &SessionId,
        patient: &PatientId,
        input: &PatientInput,
    ) -> Result<Patient> {
        let actor = self
            .ws
            .authorize_for(session, Action::PatientEdit, Some(patient.as_str()))?;
        rules::update(self.ws.ledger_mut(), &actor, patient, input)
    }

    /// Opens the file; the opening is recorded before it is returned.
    pub fn open(&mut self, session: &SessionId, patient: &PatientId) -> Result<PatientFile> {
        let actor = self
            .ws
            .authorize_for(session, Action::PatientView, Some(patient.as_str()))?;
        rules::open(self.ws.ledger_mut(), &actor, patient)
    }

    /// Acts on an open edit conflict of a file (see [`rules::resolve_conflict`]). Returns the
    /// file as it is now.
    pub fn resolve_conflict(
        &mut self,
        session: &SessionId,
        patient: &PatientId,
        record: &RecordId,
        field: &str,
        decision: ConflictDecision,
    ) -> Result<PatientFile> {
        let actor = self
            .ws
            .authorize_for(session, Action::PatientEdit, Some(patient.as_str()))?;
        rules::resolve_conflict(self.ws.ledger_mut(), &actor, patient, record, field, decision)
    }
}
