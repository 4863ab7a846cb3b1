//! Accounts: the branch, its users and roles, passwords (argon2id), login and lockout.
//!
//! Rules that live here ([`rules`]): one role per account; passwords of at least 8
//! characters; 5 failed logins lock an account for 15 minutes; users are deactivated, never
//! deleted; the last active admin cannot be deactivated; only admins administer admins and
//! managers ([`crate::permissions::may_administer`]); a cashier works only at the terminals
//! their account is bound to.

pub mod facade;
pub mod projection;
pub mod queries;
pub mod records;
pub mod rules;
pub mod views;

pub use queries::*;
pub use records::*;
pub use rules::*;
pub use views::*;
