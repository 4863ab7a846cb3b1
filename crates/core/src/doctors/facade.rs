//! The doctors area's commands: each authorizes the session for its action, then reads or runs
//! the area's rule (which appends through the ledger). Nothing else.

use super::records::{ChairId, DayHours, DoctorId, LeaveId};
use super::views::{
    Chair, ChairInput, ChairUpdate, DayAvailability, Doctor, DoctorCandidate, DoctorDetail, DoctorInput,
    DoctorUpdate, Leave, LeaveInput,
};
use super::{queries, rules};
use crate::Result;
use crate::ids::SessionId;
use crate::permissions::Action;
use crate::workstation::Workstation;

/// `ws.doctors()`: doctor profiles, hours, leave and chairs.
pub struct Doctors<'w> {
    ws: &'w mut Workstation,
}

impl Workstation {
    pub fn doctors(&mut self) -> Doctors<'_> {
        Doctors { ws: self }
    }
}

impl Doctors<'_> {
    pub fn list(&mut self, session: &SessionId) -> Result<Vec<Doctor>> {
        self.ws.authorize(session, Action::DoctorView)?;
        queries::list_doctors(self.ws.ledger().conn())
    }

    /// A profile with its week and leave.
    pub fn get(&mut self, session: &SessionId, doctor_id: &DoctorId) -> Result<DoctorDetail> {
        self.ws.authorize(session, Action::DoctorView)?;
        queries::detail(self.ws.ledger().conn(), doctor_id)
    }

    /// The doctor's working intervals on `date` (`YYYY-MM-DD`) after leave.
    pub fn availability(
        &mut self,
        session: &SessionId,
        doctor_id: &DoctorId,
        date: &str,
    ) -> Result<DayAvailability> {
        self.ws.authorize(session, Action::DoctorView)?;
        queries::availability(self.ws.ledger().conn(), doctor_id, date)
    }

    /// Doctor accounts a new profile may link.
    pub fn candidates(&mut self, session: &SessionId) -> Result<Vec<DoctorCandidate>> {
        self.ws.authorize(session, Action::DoctorEdit)?;
        queries::candidates(self.ws.ledger().conn())
    }

    pub fn register(&mut self, session: &SessionId, input: &DoctorInput) -> Result<Doctor> {
        let actor = self.ws.authorize(session, Action::DoctorEdit)?;
        rules::register(self.ws.ledger_mut(), &actor, input)
    }

    pub fn update(
        &mut self,
        session: &SessionId,
        doctor_id: &DoctorId,
        input: &DoctorUpdate,
    ) -> Result<Doctor> {
        let actor = self.ws.authorize(session, Action::DoctorEdit)?;
        rules::update(self.ws.ledger_mut(), &actor, doctor_id, input)
    }

    /// Replaces the doctor's whole week of hours.
    pub fn set_hours(
        &mut self,
        session: &SessionId,
        doctor_id: &DoctorId,
        week: &[DayHours],
    ) -> Result<Vec<DayHours>> {
        let actor = self.ws.authorize(session, Action::DoctorEdit)?;
        rules::set_hours(self.ws.ledger_mut(), &actor, doctor_id, week)
    }

    pub fn add_leave(
        &mut self,
        session: &SessionId,
        doctor_id: &DoctorId,
        input: &LeaveInput,
    ) -> Result<Leave> {
        let actor = self.ws.authorize(session, Action::DoctorEdit)?;
        rules::add_leave(self.ws.ledger_mut(), &actor, doctor_id, input)
    }

    pub fn cancel_leave(
        &mut self,
        session: &SessionId,
        doctor_id: &DoctorId,
        leave_id: &LeaveId,
    ) -> Result<Leave> {
        let actor = self.ws.authorize(session, Action::DoctorEdit)?;
        rules::cancel_leave(self.ws.ledger_mut(), &actor, doctor_id, leave_id)
    }

    pub fn chairs(&mut self, session: &SessionId) -> Result<Vec<Chair>> {
        self.ws.authorize(session, Action::DoctorView)?;
        queries::chairs(self.ws.ledger().conn())
    }

    pub fn add_chair(&mut self, session: &SessionId, input: &ChairInput) -> Result<Chair> {
        let actor = self.ws.authorize(session, Action::ChairEdit)?;
        rules::add_chair(self.ws.ledger_mut(), &actor, input)
    }

    pub fn update_chair(
        &mut self,
        session: &SessionId,
        chair_id: &ChairId,
        input: &ChairUpdate,
    ) -> Result<Chair> {
        let actor = self.ws.authorize(session, Action::ChairEdit)?;
        rules::update_chair(self.ws.ledger_mut(), &actor, chair_id, input)
    }
}
