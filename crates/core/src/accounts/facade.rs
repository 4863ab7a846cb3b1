//! The accounts area's commands: users and the cashier terminals they are bound to. Signing in
//! and the sessions are the workstation's ([`Workstation::login`]).

use super::{NewUser, UserSummary, queries, rules};
use crate::ids::{DeviceId, SessionId, UserId};
use crate::permissions::Action;
use crate::{Result, Workstation};

/// `ws.accounts()`: authorize → the accounts rules → append.
pub struct Accounts<'w> {
    ws: &'w mut Workstation,
}

impl Workstation {
    pub fn accounts(&mut self) -> Accounts<'_> {
        Accounts { ws: self }
    }
}

impl Accounts<'_> {
    pub fn list_users(&mut self, session: &SessionId) -> Result<Vec<UserSummary>> {
        self.ws.authorize(session, Action::UserList)?;
        queries::list_users(self.ws.ledger().conn())
    }

    pub fn create_user(&mut self, session: &SessionId, new: &NewUser) -> Result<UserSummary> {
        let actor = self.ws.authorize(session, Action::UserCreate)?;
        rules::create_user(self.ws.ledger_mut(), &actor, new)
    }

    pub fn reset_password(&mut self, session: &SessionId, user: &UserId, password: &str) -> Result<()> {
        let actor = self.ws.authorize(session, Action::UserResetPassword)?;
        rules::reset_password(self.ws.ledger_mut(), &actor, user, password)
    }

    /// Deactivates the account; its open sessions on this workstation end at once.
    pub fn deactivate(&mut self, session: &SessionId, user: &UserId) -> Result<UserSummary> {
        let actor = self.ws.authorize(session, Action::UserDeactivate)?;
        let summary = rules::deactivate(self.ws.ledger_mut(), &actor, user)?;
        self.ws.end_sessions_of(user);
        Ok(summary)
    }

    pub fn reactivate(&mut self, session: &SessionId, user: &UserId) -> Result<UserSummary> {
        let actor = self.ws.authorize(session, Action::UserReactivate)?;
        rules::reactivate(self.ws.ledger_mut(), &actor, user)
    }

    pub fn cashier_terminals(&mut self, session: &SessionId, user: &UserId) -> Result<Vec<DeviceId>> {
        self.ws.authorize(session, Action::UserList)?;
        queries::cashier_terminals(self.ws.ledger().conn(), user)
    }

    pub fn set_cashier_terminals(
        &mut self,
        session: &SessionId,
        user: &UserId,
        devices: &[DeviceId],
    ) -> Result<Vec<DeviceId>> {
        let actor = self.ws.authorize(session, Action::CashierBind)?;
        rules::set_cashier_terminals(self.ws.ledger_mut(), &actor, user, devices)
    }
}
