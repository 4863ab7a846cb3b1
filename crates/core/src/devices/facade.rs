//! The devices area's commands: the branch's workstations, revoking one, and this
//! workstation's enrolment at the branch server (the last run by the enrolment, no session).

use super::{BranchDevice, Enrolment, queries, rules};
use crate::ids::{DeviceId, SessionId};
use crate::permissions::Action;
use crate::{CoreError, ErrorCode, Result, Workstation, accounts};

/// `ws.devices()`: authorize → the devices rules → append.
pub struct Devices<'w> {
    ws: &'w mut Workstation,
}

impl Workstation {
    pub fn devices(&mut self) -> Devices<'_> {
        Devices { ws: self }
    }
}

impl Devices<'_> {
    /// The branch's workstations (the devices screen; binding cashiers to their terminals).
    pub fn branch_devices(&mut self, session: &SessionId) -> Result<Vec<BranchDevice>> {
        self.ws.authorize(session, Action::DeviceList)?;
        queries::branch_devices(self.ws.ledger().conn())
    }

    /// Revokes another workstation of the branch: a `device.revoked` record, and once the
    /// branch server accepts it, that workstation's later records are refused (its earlier
    /// ones stay). Not this workstation itself, only a known one, and only once.
    pub fn revoke(&mut self, session: &SessionId, device: &DeviceId, reason: &str) -> Result<BranchDevice> {
        let actor = self.ws.authorize(session, Action::DeviceRevoke)?;
        rules::revoke_device(self.ws.ledger_mut(), &actor, device, reason)
    }

    /// The branch server this workstation is enrolled with, if any.
    pub fn enrolment(&mut self) -> Result<Option<Enrolment>> {
        queries::enrolment(self.ws.ledger().conn())
    }

    /// Who may enrol this workstation: anyone while it is not set up (a new desk joins its
    /// branch before it has any users: they come from the server), an unlocked admin after. A
    /// refusal is recorded like every other.
    pub fn may_enrol(&mut self, session: Option<&SessionId>) -> Result<()> {
        if accounts::branch(self.ws.ledger().conn())?.is_none() {
            return Ok(());
        }
        let session = session.ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "please log in"))?;
        self.ws.authorize(session, Action::DeviceEnrol).map(drop)
    }

    /// Keeps the enrolment (after the server accepted this device) and records it in the chain.
    pub fn save_enrolment(&mut self, enrolment: &Enrolment) -> Result<()> {
        rules::save_enrolment(self.ws.ledger_mut(), enrolment)
    }
}
