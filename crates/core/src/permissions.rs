//! Roles and the permission matrix — the one place that says who may do what.
//!
//! Every command of the workstation names its [`Action`] and calls
//! [`crate::ledger::Ledger::authorize`] before doing anything; a refusal is itself recorded.
//! The branch server will check the same matrix when records arrive.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Receptionist,
    Assistant,
    Doctor,
    Cashier,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Manager,
        Role::Receptionist,
        Role::Assistant,
        Role::Doctor,
        Role::Cashier,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Receptionist => "receptionist",
            Role::Assistant => "assistant",
            Role::Doctor => "doctor",
            Role::Cashier => "cashier",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// Everything a signed-in user can ask the workstation to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    UserList,
    UserCreate,
    UserResetPassword,
    UserDeactivate,
    UserReactivate,
    PatientSearch,
    PatientView,
    PatientRegister,
    PatientEdit,
    AuditView,
    AuditVerify,
    SettingsEdit,
    /// Bind a cashier account to the cashier terminals it may work at.
    CashierBind,
    /// See the branch's workstations: kind, last seen, how far behind.
    DeviceList,
    /// Revoke a workstation: the server refuses its later records, keeps its earlier ones.
    DeviceRevoke,
    /// Enrol a workstation that is already set up (a new one joins before it has any users).
    DeviceEnrol,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::UserList,
        Action::UserCreate,
        Action::UserResetPassword,
        Action::UserDeactivate,
        Action::UserReactivate,
        Action::PatientSearch,
        Action::PatientView,
        Action::PatientRegister,
        Action::PatientEdit,
        Action::AuditView,
        Action::AuditVerify,
        Action::SettingsEdit,
        Action::CashierBind,
        Action::DeviceList,
        Action::DeviceRevoke,
        Action::DeviceEnrol,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::UserList => "user_list",
            Action::UserCreate => "user_create",
            Action::UserResetPassword => "user_reset_password",
            Action::UserDeactivate => "user_deactivate",
            Action::UserReactivate => "user_reactivate",
            Action::PatientSearch => "patient_search",
            Action::PatientView => "patient_view",
            Action::PatientRegister => "patient_register",
            Action::PatientEdit => "patient_edit",
            Action::AuditView => "audit_view",
            Action::AuditVerify => "audit_verify",
            Action::SettingsEdit => "settings_edit",
            Action::CashierBind => "cashier_bind",
            Action::DeviceList => "device_list",
            Action::DeviceRevoke => "device_revoke",
            Action::DeviceEnrol => "device_enrol",
        }
    }
}

use Role::*;

/// The permission matrix. Reading a row: the roles that may perform the action.
///
/// Choices: managers watch and administer staff but do not edit clinical files; cashiers find a
/// patient to bill them but do not open the medical file; doctors and assistants read and
/// correct the medical file; registration is the reception desk's job (and the admin's).
pub const MATRIX: &[(Action, &[Role])] = &[
    (Action::UserList, &[Admin, Manager]),
    (Action::UserCreate, &[Admin, Manager]),
    (Action::UserResetPassword, &[Admin, Manager]),
    (Action::UserDeactivate, &[Admin, Manager]),
    (Action::UserReactivate, &[Admin, Manager]),
    (
        Action::PatientSearch,
        &[Admin, Manager, Receptionist, Assistant, Doctor, Cashier],
    ),
    (
        Action::PatientView,
        &[Admin, Manager, Receptionist, Assistant, Doctor],
    ),
    (Action::PatientRegister, &[Admin, Receptionist]),
    (Action::PatientEdit, &[Admin, Receptionist, Assistant, Doctor]),
    (Action::AuditView, &[Admin, Manager]),
    (Action::AuditVerify, &[Admin, Manager]),
    (Action::SettingsEdit, &[Admin]),
    (Action::CashierBind, &[Admin]),
    (Action::DeviceList, &[Admin, Manager]),
    (Action::DeviceRevoke, &[Admin]),
    (Action::DeviceEnrol, &[Admin]),
];

pub fn allows(role: Role, action: Action) -> bool {
    MATRIX
        .iter()
        .any(|(a, roles)| *a == action && roles.contains(&role))
}

/// [`allows`], with the refusal in words ("a doctor may not patient_register"): the one check
/// the ledger runs before writing a record and the branch server runs when one arrives.
pub fn check(role: Role, action: Action) -> std::result::Result<(), String> {
    if allows(role, action) {
        Ok(())
    } else {
        Err(format!("a {role} may not {}", action.as_str()))
    }
}

/// Roles a user of `creator` role may create or administer: only an admin manages admins and
/// managers, so a manager cannot raise anyone (or themselves) above their own rank.
pub fn may_administer(creator: Role, target: Role) -> bool {
    match creator {
        Admin => true,
        Manager => !matches!(target, Admin | Manager),
        _ => false,
    }
}

/// What the UI may show for a role (it hides the rest; the core still checks every call).
pub fn actions_for(role: Role) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| allows(role, *a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_row() {
        for action in Action::ALL {
            assert_eq!(
                MATRIX.iter().filter(|(a, _)| *a == action).count(),
                1,
                "{action:?}"
            );
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }
}
