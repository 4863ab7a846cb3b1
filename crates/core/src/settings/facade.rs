//! The settings area's commands: reading the branch settings (any signed-in user: the idle lock
//! applies to everyone) and changing them.

use super::{Settings, queries, rules};
use crate::ids::SessionId;
use crate::permissions::Action;
use crate::{Result, Workstation};

/// `ws.settings()`: authorize → the settings rules → append.
pub struct BranchSettings<'w> {
    ws: &'w mut Workstation,
}

impl Workstation {
    pub fn settings(&mut self) -> BranchSettings<'_> {
        BranchSettings { ws: self }
    }
}

impl BranchSettings<'_> {
    pub fn get(&mut self, session: &SessionId) -> Result<Settings> {
        self.ws.active_session(session)?;
        queries::get(self.ws.ledger().conn())
    }

    pub fn set_idle_lock_minutes(&mut self, session: &SessionId, minutes: u32) -> Result<Settings> {
        let actor = self.ws.authorize(session, Action::SettingsEdit)?;
        rules::set_idle_lock_minutes(self.ws.ledger_mut(), &actor, minutes)
    }
}
