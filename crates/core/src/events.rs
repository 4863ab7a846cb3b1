//! Every kind of record the workstation writes, in one registry, and how each projects onto the
//! tables. The payload types live in their business area's module; this file only names them,
//! so adding a kind is one line here plus its [`Project`] impl there.

use crate::permissions::Action;
use crate::record::{Record, canonical_json};
use crate::{CoreError, Result};
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

/// The record being applied: projections take times and actors from it, never from a clock.
pub struct Applied<'a> {
    pub local_index: i64,
    pub record: &'a Record,
}

impl Applied<'_> {
    pub fn time(&self) -> &str {
        &self.record.body.device_time
    }
}

/// SQL for the patient a record (of table alias `r`) concerns: its payload's `patient_id` field,
/// which every payload about a patient carries. Written exactly as in the `records_patient`
/// index (migration V4), so queries by patient use it.
pub const PATIENT_OF_RECORD: &str = "json_extract(CAST(r.payload AS TEXT), '$.patient_id')";

/// How a payload changes the projection tables.
pub trait Project {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()>;
}

macro_rules! events {
    ($( $kind:literal => $variant:ident($ty:ty) ),* $(,)?) => {
        // Events are short-lived values on the way into a record; boxing the large ones would
        // buy nothing measurable.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event { $( $variant($ty), )* }

        impl Event {
            pub const KINDS: &'static [&'static str] = &[$( $kind, )*];

            pub fn kind(&self) -> &'static str {
                match self { $( Event::$variant(_) => $kind, )* }
            }

            pub fn kind_version(&self) -> u32 {
                1
            }

            pub fn payload(&self) -> Result<Vec<u8>> {
                match self { $( Event::$variant(p) => canonical_json(p), )* }
            }

            /// Decodes a stored payload. All kinds are at version 1; when one changes, its old
            /// versions are upcast here, and stored records are never rewritten.
            pub fn decode(kind: &str, version: u32, payload: &[u8]) -> Result<Event> {
                if version != 1 {
                    return Err(CoreError::internal(format!("unknown version {version} of {kind}")));
                }
                match kind {
                    $( $kind => Ok(Event::$variant(serde_json::from_slice(payload)?)), )*
                    other => Err(CoreError::internal(format!("unknown record kind {other}"))),
                }
            }

            pub(crate) fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
                match self { $( Event::$variant(p) => p.apply(tx, at), )* }
            }
        }

        $( impl From<$ty> for Event { fn from(p: $ty) -> Self { Event::$variant(p) } } )*
    };
}

use crate::{accounts, audit, documents, patients, settings, sync};

events! {
    "device.initialized" => DeviceInitialized(DeviceInitialized),
    "access.denied" => AccessDenied(AccessDenied),
    "branch.created" => BranchCreated(accounts::BranchCreated),
    "user.created" => UserCreated(accounts::UserCreated),
    "user.password_reset" => PasswordReset(accounts::PasswordReset),
    "user.deactivated" => UserDeactivated(accounts::UserDeactivated),
    "user.reactivated" => UserReactivated(accounts::UserReactivated),
    "user.language_set" => LanguageSet(accounts::LanguageSet),
    "auth.login_succeeded" => LoginSucceeded(accounts::LoginSucceeded),
    "auth.login_failed" => LoginFailed(accounts::LoginFailed),
    "auth.logged_out" => LoggedOut(accounts::LoggedOut),
    "auth.session_locked" => SessionLocked(accounts::SessionLocked),
    "auth.session_unlocked" => SessionUnlocked(accounts::SessionUnlocked),
    "settings.changed" => SettingChanged(settings::SettingChanged),
    "patient.registered" => PatientRegistered(patients::PatientRegistered),
    "patient.updated" => PatientUpdated(patients::PatientUpdated),
    "patient.viewed" => PatientViewed(patients::PatientViewed),
    "patient.conflict_resolved" => PatientConflictResolved(patients::PatientConflictResolved),
    "audit.verified" => AuditVerified(audit::AuditVerified),
    "cashier.terminals_set" => CashierTerminalsSet(accounts::CashierTerminalsSet),
    "device.enrolled" => DeviceEnrolled(sync::DeviceEnrolled),
    "device.revoked" => DeviceRevoked(sync::DeviceRevoked),
    "audit.report_generated" => AuditReportGenerated(documents::audit_report::AuditReportGenerated),
}

impl Event {
    /// The permission the record's actor must hold, checked again by the branch server (under
    /// the same [`crate::permissions::MATRIX`]) when the record arrives. `None`: records any
    /// session or the device itself writes (device start, logins, refusals, own language).
    pub fn required_action(&self) -> Option<Action> {
        use Event::*;
        match self {
            UserCreated(_) => Some(Action::UserCreate),
            PasswordReset(_) => Some(Action::UserResetPassword),
            UserDeactivated(_) => Some(Action::UserDeactivate),
            UserReactivated(_) => Some(Action::UserReactivate),
            SettingChanged(_) => Some(Action::SettingsEdit),
            PatientRegistered(_) => Some(Action::PatientRegister),
            PatientUpdated(_) => Some(Action::PatientEdit),
            PatientViewed(_) => Some(Action::PatientView),
            PatientConflictResolved(_) => Some(Action::PatientEdit),
            AuditVerified(_) => Some(Action::AuditVerify),
            AuditReportGenerated(_) => Some(Action::AuditVerify),
            CashierTerminalsSet(_) => Some(Action::CashierBind),
            DeviceRevoked(_) => Some(Action::DeviceRevoke),
            DeviceInitialized(_) | DeviceEnrolled(_) | AccessDenied(_) | BranchCreated(_)
            | LanguageSet(_) | LoginSucceeded(_) | LoginFailed(_) | LoggedOut(_) | SessionLocked(_)
            | SessionUnlocked(_) => None,
        }
    }

    /// The shared things a record changes ("patient:<id>", "user:<id>", "username:<name>",
    /// "setting:<key>", "branch", "device:<id>"). Two records with a subject in common must be
    /// applied in the server's log order; records with none in common commute.
    pub fn subjects(&self) -> Vec<String> {
        use Event::*;
        match self {
            BranchCreated(_) => vec!["branch".into()],
            UserCreated(u) => vec![
                format!("user:{}", u.user_id),
                format!("username:{}", u.username.to_lowercase()),
            ],
            PasswordReset(accounts::PasswordReset { user_id, .. })
            | UserDeactivated(accounts::UserDeactivated { user_id, .. })
            | UserReactivated(accounts::UserReactivated { user_id, .. })
            | LanguageSet(accounts::LanguageSet { user_id, .. })
            | LoginSucceeded(accounts::LoginSucceeded { user_id, .. })
            | CashierTerminalsSet(accounts::CashierTerminalsSet { user_id, .. }) => {
                vec![format!("user:{user_id}")]
            }
            LoginFailed(f) => f.user_id.iter().map(|u| format!("user:{u}")).collect(),
            SettingChanged(s) => vec![format!("setting:{}", s.key)],
            PatientRegistered(p) => vec![format!("patient:{}", p.patient_id)],
            PatientUpdated(p) => vec![format!("patient:{}", p.patient_id)],
            PatientConflictResolved(p) => vec![format!("patient:{}", p.patient_id)],
            DeviceRevoked(d) => vec![format!("device:{}", d.device_id)],
            DeviceInitialized(_)
            | DeviceEnrolled(_)
            | AccessDenied(_)
            | LoggedOut(_)
            | SessionLocked(_)
            | SessionUnlocked(_)
            | PatientViewed(_)
            | AuditVerified(_)
            | AuditReportGenerated(_) => Vec::new(),
        }
    }
}

/// The first record of every device's chain: its public key, so the chain can be verified by
/// anyone holding the records, without the secret key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInitialized {
    pub public_key: String,
    pub key_storage: String,
    pub app_version: String,
}

impl Project for DeviceInitialized {
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

/// A refused attempt: who tried what, and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDenied {
    pub action: String,
    pub reason: String,
    pub patient_id: Option<String>,
}

impl Project for AccessDenied {
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}
