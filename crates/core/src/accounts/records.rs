//! The accounts area's signed payloads: the branch, users, logins and sessions. Their JSON is
//! on signed records forever (golden vectors in `record.rs`).

use super::{projection, rules};
use crate::Result;
use crate::ids::{DeviceId, SessionId, UserId};
use crate::kind::{Admit, AdmitContext, Applied, Kind};
use crate::permissions::{Action, Role};
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

crate::id_type!(
    /// The branch (UUID v7, made at its setup).
    BranchId
);

/// A plain value, shared by the payloads and the IPC types (its names are on signed records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    En,
    Ar,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ar => "ar",
        }
    }

    pub(crate) fn parse(s: &str) -> Language {
        if s == "ar" { Language::Ar } else { Language::En }
    }
}

fn user(user_id: &UserId) -> Vec<String> {
    vec![format!("user:{user_id}")]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCreated {
    pub branch_id: BranchId,
    pub code: String,
    pub name: String,
}

impl Kind for BranchCreated {
    const KIND: &'static str = "branch.created";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &["branch"];
    fn subjects(&self) -> Vec<String> {
        vec!["branch".into()]
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::branch_created(tx, self, at)
    }
    fn admit_first(&self, cx: &AdmitContext<'_>) -> Result<Admit> {
        rules::admit_branch_created(cx)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The argon2id PHC string (never the password): accounts must reach every workstation so
    /// staff can log in anywhere, offline too.
    pub password_hash: String,
    pub language: Language,
}

impl Kind for UserCreated {
    const KIND: &'static str = "user.created";
    const ACTION: Option<Action> = Some(Action::UserCreate);
    const TABLES: &'static [&'static str] = &["users"];
    fn subjects(&self) -> Vec<String> {
        vec![
            format!("user:{}", self.user_id),
            format!("username:{}", self.username.to_lowercase()),
        ]
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::user_created(tx, self, at)
    }
    fn admit_first(&self, cx: &AdmitContext<'_>) -> Result<Admit> {
        rules::admit_founding_admin(cx, self)
    }
    fn admit(&self, _: &AdmitContext<'_>, actor_role: Option<Role>) -> Result<Option<String>> {
        Ok(rules::admit_administering(actor_role, self.role))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub user_id: UserId,
    pub password_hash: String,
}

impl Kind for PasswordReset {
    const KIND: &'static str = "user.password_reset";
    const ACTION: Option<Action> = Some(Action::UserResetPassword);
    const TABLES: &'static [&'static str] = &["users"];
    fn subjects(&self) -> Vec<String> {
        user(&self.user_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::password_reset(tx, self, at)
    }
    fn admit(&self, cx: &AdmitContext<'_>, actor_role: Option<Role>) -> Result<Option<String>> {
        rules::admit_administering_user(cx, actor_role, &self.user_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeactivated {
    pub user_id: UserId,
}

impl Kind for UserDeactivated {
    const KIND: &'static str = "user.deactivated";
    const ACTION: Option<Action> = Some(Action::UserDeactivate);
    const TABLES: &'static [&'static str] = &["users"];
    fn subjects(&self) -> Vec<String> {
        user(&self.user_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::set_active(tx, &self.user_id, false, at)
    }
    fn admit(&self, cx: &AdmitContext<'_>, actor_role: Option<Role>) -> Result<Option<String>> {
        rules::admit_administering_user(cx, actor_role, &self.user_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReactivated {
    pub user_id: UserId,
}

impl Kind for UserReactivated {
    const KIND: &'static str = "user.reactivated";
    const ACTION: Option<Action> = Some(Action::UserReactivate);
    const TABLES: &'static [&'static str] = &["users"];
    fn subjects(&self) -> Vec<String> {
        user(&self.user_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::set_active(tx, &self.user_id, true, at)
    }
    fn admit(&self, cx: &AdmitContext<'_>, actor_role: Option<Role>) -> Result<Option<String>> {
        rules::admit_administering_user(cx, actor_role, &self.user_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageSet {
    pub user_id: UserId,
    pub language: Language,
}

impl Kind for LanguageSet {
    const KIND: &'static str = "user.language_set";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &["users"];
    fn subjects(&self) -> Vec<String> {
        user(&self.user_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::language_set(tx, self, at)
    }
}

/// The cashier terminals (device ids) a cashier account may work at; replaces the earlier list.
/// Once a workstation is enrolled in a branch, a cashier logs in only at a bound terminal, and
/// the branch server refuses a cashier's records from any other device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashierTerminalsSet {
    pub user_id: UserId,
    pub device_ids: Vec<DeviceId>,
}

impl Kind for CashierTerminalsSet {
    const KIND: &'static str = "cashier.terminals_set";
    const ACTION: Option<Action> = Some(Action::CashierBind);
    const TABLES: &'static [&'static str] = &["cashier_terminals"];
    fn subjects(&self) -> Vec<String> {
        user(&self.user_id)
    }
    fn apply(&self, tx: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        projection::cashier_terminals_set(tx, self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSucceeded {
    pub user_id: UserId,
    pub session_id: SessionId,
}

impl Kind for LoginSucceeded {
    const KIND: &'static str = "auth.login_succeeded";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &["users"];
    fn subjects(&self) -> Vec<String> {
        user(&self.user_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::login_succeeded(tx, self, at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailed {
    pub username: String,
    /// `None` when no such user exists.
    pub user_id: Option<UserId>,
    /// bad_password, unknown_user, locked, inactive
    pub reason: String,
    /// The count after this attempt (decided when written, so rebuilds agree).
    pub failed_attempts: u32,
    pub locked_until: Option<String>,
}

impl Kind for LoginFailed {
    const KIND: &'static str = "auth.login_failed";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &["users"];
    fn subjects(&self) -> Vec<String> {
        self.user_id.iter().map(|u| format!("user:{u}")).collect()
    }
    fn apply(&self, tx: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        projection::login_failed(tx, self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedOut {
    pub user_id: UserId,
    pub session_id: SessionId,
}

impl Kind for LoggedOut {
    const KIND: &'static str = "auth.logged_out";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLocked {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub idle_minutes: u32,
}

impl Kind for SessionLocked {
    const KIND: &'static str = "auth.session_locked";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUnlocked {
    pub user_id: UserId,
    pub session_id: SessionId,
}

impl Kind for SessionUnlocked {
    const KIND: &'static str = "auth.session_unlocked";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::NewUser;
    use crate::kind::assert_payload_json;

    const USER: &str = "0195f3a0-0000-7000-8000-0000000000a1";
    const SESSION: &str = "0195f3a0-0000-7000-8000-0000000000b1";

    /// The literals were captured from the payloads before the payload types were separated
    /// from the IPC types: a renamed field or a changed value format fails here.
    #[test]
    fn accounts_payloads_keep_their_json() {
        assert_payload_json(
            &BranchCreated {
                branch_id: "0195f3a0-0000-7000-8000-0000000000c1".into(),
                code: "AMM1".into(),
                name: "Amman Central".into(),
            },
            r#"{"branch_id":"0195f3a0-0000-7000-8000-0000000000c1","code":"AMM1","name":"Amman Central"}"#,
        );
        let new = NewUser {
            username: "rana".into(),
            display_name: "رنا".into(),
            role: Role::Receptionist,
            password: "not on the record".into(),
            language: Language::Ar,
        };
        assert_payload_json(
            &UserCreated {
                user_id: USER.into(),
                username: new.username.clone(),
                display_name: new.display_name.clone(),
                role: new.role,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                language: new.language,
            },
            r#"{"display_name":"رنا","language":"ar","password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA","role":"receptionist","user_id":"0195f3a0-0000-7000-8000-0000000000a1","username":"rana"}"#,
        );
        assert_payload_json(
            &PasswordReset {
                user_id: USER.into(),
                password_hash: "$argon2id$x".into(),
            },
            r#"{"password_hash":"$argon2id$x","user_id":"0195f3a0-0000-7000-8000-0000000000a1"}"#,
        );
        let user_only = r#"{"user_id":"0195f3a0-0000-7000-8000-0000000000a1"}"#;
        assert_payload_json(&UserDeactivated { user_id: USER.into() }, user_only);
        assert_payload_json(&UserReactivated { user_id: USER.into() }, user_only);
        assert_payload_json(
            &LanguageSet {
                user_id: USER.into(),
                language: Language::En,
            },
            r#"{"language":"en","user_id":"0195f3a0-0000-7000-8000-0000000000a1"}"#,
        );
        assert_payload_json(
            &CashierTerminalsSet {
                user_id: USER.into(),
                device_ids: vec!["0123456789abcdef0123456789abcdef".into()],
            },
            r#"{"device_ids":["0123456789abcdef0123456789abcdef"],"user_id":"0195f3a0-0000-7000-8000-0000000000a1"}"#,
        );
        let session = r#"{"session_id":"0195f3a0-0000-7000-8000-0000000000b1","user_id":"0195f3a0-0000-7000-8000-0000000000a1"}"#;
        assert_payload_json(
            &LoginSucceeded {
                user_id: USER.into(),
                session_id: SESSION.into(),
            },
            session,
        );
        assert_payload_json(
            &LoggedOut {
                user_id: USER.into(),
                session_id: SESSION.into(),
            },
            session,
        );
        assert_payload_json(
            &SessionUnlocked {
                user_id: USER.into(),
                session_id: SESSION.into(),
            },
            session,
        );
        assert_payload_json(
            &SessionLocked {
                user_id: USER.into(),
                session_id: SESSION.into(),
                idle_minutes: 10,
            },
            r#"{"idle_minutes":10,"session_id":"0195f3a0-0000-7000-8000-0000000000b1","user_id":"0195f3a0-0000-7000-8000-0000000000a1"}"#,
        );
        assert_payload_json(
            &LoginFailed {
                username: "rana".into(),
                user_id: Some(USER.into()),
                reason: "bad_password".into(),
                failed_attempts: 5,
                locked_until: Some("2026-03-02T08:15:00Z".into()),
            },
            r#"{"failed_attempts":5,"locked_until":"2026-03-02T08:15:00Z","reason":"bad_password","user_id":"0195f3a0-0000-7000-8000-0000000000a1","username":"rana"}"#,
        );
        assert_payload_json(
            &LoginFailed {
                username: "nobody".into(),
                user_id: None,
                reason: "unknown_user".into(),
                failed_attempts: 0,
                locked_until: None,
            },
            r#"{"failed_attempts":0,"locked_until":null,"reason":"unknown_user","user_id":null,"username":"nobody"}"#,
        );
    }
}
