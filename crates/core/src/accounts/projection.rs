//! The only code writing the accounts area's tables (`branch`, `users`, `cashier_terminals`),
//! called from the records' [`crate::kind::Kind::apply`].

use super::queries::USER_OF_RECORD;
use super::records::{
    BranchCreated, CashierTerminalsSet, LanguageSet, LoginFailed, LoginSucceeded, PasswordReset, UserCreated,
};
use crate::ids::UserId;
use crate::kind::{Applied, Finder, Kind, SubjectKind};
use crate::{CoreError, Result};
use rusqlite::{Transaction, params};

pub(super) fn branch_created(tx: &Transaction<'_>, b: &BranchCreated, at: &Applied<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO branch (id, code, name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![b.branch_id, b.code, b.name, at.time()],
    )?;
    Ok(())
}

pub(super) fn user_created(tx: &Transaction<'_>, u: &UserCreated, at: &Applied<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO users (id, username, display_name, role, password_hash, language, active,
            failed_attempts, locked_until, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 0, NULL, ?7, ?7)",
        params![
            u.user_id,
            u.username,
            u.display_name,
            u.role.as_str(),
            u.password_hash,
            u.language.as_str(),
            at.time()
        ],
    )?;
    Ok(())
}

pub(super) fn password_reset(tx: &Transaction<'_>, r: &PasswordReset, at: &Applied<'_>) -> Result<()> {
    // A reset also lifts a lockout: the manager has identified the user.
    update_user(
        tx,
        "password_hash = ?2, failed_attempts = 0, locked_until = NULL",
        &r.user_id,
        &r.password_hash,
        at,
    )
}

pub(super) fn set_active(
    tx: &Transaction<'_>,
    user_id: &UserId,
    active: bool,
    at: &Applied<'_>,
) -> Result<()> {
    update_user(tx, "active = ?2", user_id, &i64::from(active), at)
}

pub(super) fn language_set(tx: &Transaction<'_>, l: &LanguageSet, at: &Applied<'_>) -> Result<()> {
    update_user(tx, "language = ?2", &l.user_id, &l.language.as_str(), at)
}

pub(super) fn cashier_terminals_set(tx: &Transaction<'_>, t: &CashierTerminalsSet) -> Result<()> {
    tx.execute("DELETE FROM cashier_terminals WHERE user_id = ?1", [&t.user_id])?;
    for device in &t.device_ids {
        tx.execute(
            "INSERT INTO cashier_terminals (user_id, device_id) VALUES (?1, ?2)",
            params![t.user_id, device],
        )?;
    }
    Ok(())
}

pub(super) fn login_succeeded(tx: &Transaction<'_>, l: &LoginSucceeded, at: &Applied<'_>) -> Result<()> {
    update_user(
        tx,
        "failed_attempts = ?2, locked_until = NULL",
        &l.user_id,
        &0,
        at,
    )
}

pub(super) fn login_failed(tx: &Transaction<'_>, f: &LoginFailed) -> Result<()> {
    if let (Some(user_id), "bad_password") = (&f.user_id, f.reason.as_str()) {
        tx.execute(
            "UPDATE users SET failed_attempts = ?2, locked_until = ?3 WHERE id = ?1",
            params![user_id, f.failed_attempts, f.locked_until],
        )?;
    }
    Ok(())
}

fn update_user(
    tx: &Transaction<'_>,
    set: &str,
    user_id: &UserId,
    value: &dyn rusqlite::ToSql,
    at: &Applied<'_>,
) -> Result<()> {
    let sql = format!("UPDATE users SET {set}, updated_at = ?3 WHERE id = ?1");
    let n = tx.execute(&sql, params![user_id, value, at.time()])?;
    if n != 1 {
        return Err(CoreError::not_found("user"));
    }
    Ok(())
}

/// The accounts area's subjects (`user:<id>`, `username:<name>`, `branch`), for
/// [`crate::replay`].
pub const SUBJECTS: &[SubjectKind] = &[
    SubjectKind {
        prefix: "user",
        finder: Finder::Payload(USER_OF_RECORD),
        tables: USER_TABLES,
        delete: delete_user_projection,
    },
    SubjectKind {
        prefix: "username",
        finder: Finder::Kind(UserCreated::KIND),
        tables: &["users"],
        delete: delete_username_projection,
    },
    SubjectKind {
        prefix: "branch",
        finder: Finder::Kind(BranchCreated::KIND),
        tables: &["branch"],
        delete: delete_branch_projection,
    },
];

/// Tables holding rows of one user account (subject `user:<id>`), which
/// `delete_user_projection` empties.
pub const USER_TABLES: &[&str] = &["users", "cashier_terminals"];

/// Deletes one account's rows (its user row, its cashier terminals), before
/// [`crate::replay`] re-applies that account's records. Takes the subject's key as text, like
/// every entry of the replay's table of subjects.
pub(crate) fn delete_user_projection(tx: &Transaction<'_>, user_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM cashier_terminals WHERE user_id = ?1")?
        .execute([user_id])?;
    tx.prepare_cached("DELETE FROM users WHERE id = ?1")?
        .execute([user_id])?;
    Ok(())
}

/// Deletes the account holding `username` (subject `username:<name>`: usernames are unique,
/// so two accounts created offline with one name are ordered by the log).
pub(crate) fn delete_username_projection(tx: &Transaction<'_>, username: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM users WHERE username = ?1")?
        .execute([username])?;
    Ok(())
}

/// Deletes the branch row (subject `branch`).
pub(crate) fn delete_branch_projection(tx: &Transaction<'_>, _: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM branch")?.execute([])?;
    Ok(())
}
