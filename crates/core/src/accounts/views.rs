//! What the accounts area's commands take and give across the IPC boundary (never signed:
//! free to change with the UI).

use super::records::{BranchId, Language};
use crate::ids::UserId;
use crate::permissions::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SetupInput {
    pub branch_name: String,
    pub branch_code: String,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: String,
    pub language: Language,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
    pub language: Language,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub language: Language,
    pub active: bool,
    /// Set while the account is locked after failed logins.
    pub locked_until: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BranchInfo {
    pub id: BranchId,
    pub code: String,
    pub name: String,
}
