//! Roles and the permission matrix — the one place that says who may do what.
//!
//! Every command of the workstation names its [`Action`] and calls
//! [`crate::workstation::Workstation::authorize`] before doing anything; a refusal is itself recorded.
//! The branch server will check the same matrix when records arrive.

use serde::{Deserialize, Serialize};

/// A staff role. Its names (serde, `Display`, `FromStr`, `as_str`) and the list of roles
/// ([`Role::iter`]) all come from this one declaration (strum).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Receptionist,
    Assistant,
    Doctor,
    Cashier,
}

impl Role {
    /// Every role, in declaration order.
    pub fn iter() -> impl Iterator<Item = Role> {
        <Role as strum::IntoEnumIterator>::iter()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Everything a signed-in user can ask the workstation to do. Its names and the list of
/// actions ([`Action::iter`]) come from this one declaration (strum).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::Display,
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// See doctors (profiles, hours, leave, availability) and chairs: every role that books or
    /// treats.
    DoctorView,
    /// Register and edit doctor profiles, set their hours, add and cancel their leave.
    DoctorEdit,
    /// Add, rename and retire chairs (operatories).
    ChairEdit,
}

impl Action {
    /// Every action, in declaration order.
    pub fn iter() -> impl Iterator<Item = Action> {
        <Action as strum::IntoEnumIterator>::iter()
    }

    pub fn as_str(self) -> &'static str {
        self.into()
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
    (
        Action::DoctorView,
        &[Admin, Manager, Receptionist, Assistant, Doctor],
    ),
    (Action::DoctorEdit, &[Admin, Manager]),
    (Action::ChairEdit, &[Admin, Manager]),
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
    Action::iter().filter(|a| allows(role, *a)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_row() {
        for action in Action::iter() {
            assert_eq!(
                MATRIX.iter().filter(|(a, _)| *a == action).count(),
                1,
                "{action:?}"
            );
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::iter() {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(
                serde_json::to_value(role).unwrap(),
                role.as_str(),
                "serde and strum agree"
            );
        }
        for action in Action::iter() {
            assert_eq!(action.as_str().parse::<Action>(), Ok(action));
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
        }
    }
}
