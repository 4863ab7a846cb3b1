//! The accounts area's rules: validation, building its records, login and lockout, and the
//! branch server's admission rules for its kinds.

use super::queries::{
    active_admins, branch, cashier_terminals, credentials, no_users, user_by_id, user_by_username,
};
use super::records::{
    BranchCreated, BranchId, CashierTerminalsSet, LoginFailed, PasswordReset, UserCreated, UserDeactivated,
    UserReactivated,
};
use super::views::{NewUser, SetupInput, UserSummary};
use crate::ids::{DeviceId, UserId};
use crate::kind::{Admit, AdmitContext};
use crate::ledger::{Actor, Ledger};
use crate::permissions::Role;
use crate::text::{LOGIN_NAME_MAX, NAME_MAX, PASSWORD_MAX, bounded, truncated};
use crate::{CoreError, ErrorCode, Result};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const MIN_PASSWORD_LEN: usize = 8;

pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CoreError::internal(format!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

fn validate_password(field: &str, password: &str) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(CoreError::invalid(field, "password_too_short").with("min", MIN_PASSWORD_LEN.to_string()));
    }
    if len > PASSWORD_MAX {
        return Err(CoreError::invalid(field, "too_long").with("max", PASSWORD_MAX.to_string()));
    }
    Ok(())
}

fn validate_username(username: &str) -> Result<String> {
    let u = username.trim().to_lowercase();
    let ok = (3..=32).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(CoreError::invalid("username", "username_format"));
    }
    Ok(u)
}

fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let v = bounded(field, value, max)?;
    if v.is_empty() {
        return Err(CoreError::invalid(field, "required"));
    }
    Ok(v)
}

/// First-run setup: the branch and its first admin, as one atomic pair of records.
pub fn setup_branch(ledger: &mut Ledger, input: &SetupInput) -> Result<UserSummary> {
    if branch(ledger.conn())?.is_some() {
        return Err(CoreError::new(
            ErrorCode::AlreadySetUp,
            "this workstation is already set up",
        ));
    }
    let name = required("branch_name", &input.branch_name, NAME_MAX)?;
    let code = required("branch_code", &input.branch_code, 12)?.to_uppercase();
    if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(CoreError::invalid("branch_code", "code_format"));
    }
    let new_admin = NewUser {
        username: input.admin_username.clone(),
        display_name: input.admin_display_name.clone(),
        role: Role::Admin,
        password: input.admin_password.clone(),
        language: input.language,
    };
    let created = prepare_user(ledger, &new_admin)?;
    let actor = Actor {
        user_id: Some(created.user_id.to_string()),
        role: Some(Role::Admin),
        session_id: None,
    };
    let branch = BranchCreated {
        branch_id: BranchId::generate(),
        code,
        name,
    };
    ledger.append_all(&actor, vec![branch.into(), created.clone().into()])?;
    user_by_id(ledger.conn(), &created.user_id)
}

/// The `user.created` payload for a new account (IPC input → payload): validated, the password
/// hashed (only the hash is signed).
fn prepare_user(ledger: &Ledger, new: &NewUser) -> Result<UserCreated> {
    let username = validate_username(&new.username)?;
    let display_name = required("display_name", &new.display_name, NAME_MAX)?;
    validate_password("password", &new.password)?;
    if user_by_username(ledger.conn(), &username)?.is_some() {
        return Err(CoreError::new(ErrorCode::Conflict, "that username is taken")
            .with("field", "username")
            .with("reason", "username_taken"));
    }
    Ok(UserCreated {
        user_id: UserId::generate(),
        username,
        display_name,
        role: new.role,
        password_hash: hash_password(&new.password)?,
        language: new.language,
    })
}

pub fn create_user(ledger: &mut Ledger, actor: &Actor, new: &NewUser) -> Result<UserSummary> {
    require_may_administer(actor, new.role)?;
    let created = prepare_user(ledger, new)?;
    let id = created.user_id.clone();
    ledger.append(actor, created.into())?;
    user_by_id(ledger.conn(), &id)
}

pub fn reset_password(ledger: &mut Ledger, actor: &Actor, user_id: &UserId, password: &str) -> Result<()> {
    let target = user_by_id(ledger.conn(), user_id)?;
    require_may_administer(actor, target.role)?;
    validate_password("password", password)?;
    let event = PasswordReset {
        user_id: target.id,
        password_hash: hash_password(password)?,
    };
    ledger.append(actor, event.into())?;
    Ok(())
}

/// Deactivates an account (never deleted): not one's own, not the last active admin. The caller
/// ends the user's open sessions ([`crate::accounts::facade::Accounts::deactivate`]).
pub fn deactivate(ledger: &mut Ledger, actor: &Actor, user_id: &UserId) -> Result<UserSummary> {
    set_active(ledger, actor, user_id, false)
}

pub fn reactivate(ledger: &mut Ledger, actor: &Actor, user_id: &UserId) -> Result<UserSummary> {
    set_active(ledger, actor, user_id, true)
}

fn set_active(ledger: &mut Ledger, actor: &Actor, user_id: &UserId, active: bool) -> Result<UserSummary> {
    let target = user_by_id(ledger.conn(), user_id)?;
    require_may_administer(actor, target.role)?;
    if target.active == active {
        return Ok(target);
    }
    if !active {
        if actor.user_id.as_deref() == Some(user_id.as_str()) {
            return Err(CoreError::invalid("user", "cannot_deactivate_self"));
        }
        if target.role == Role::Admin && active_admins(ledger.conn())? <= 1 {
            return Err(CoreError::invalid("user", "last_admin"));
        }
    }
    let id = target.id;
    let event = if active {
        UserReactivated { user_id: id.clone() }.into()
    } else {
        UserDeactivated { user_id: id.clone() }.into()
    };
    ledger.append(actor, event)?;
    user_by_id(ledger.conn(), &id)
}

fn require_may_administer(actor: &Actor, target: Role) -> Result<()> {
    let creator = actor
        .role
        .ok_or_else(|| CoreError::new(ErrorCode::NotLoggedIn, "not logged in"))?;
    if !crate::permissions::may_administer(creator, target) {
        return Err(CoreError::new(
            ErrorCode::Forbidden,
            format!("a {creator} cannot administer {target} accounts"),
        )
        .with("action", "administer")
        .with("target_role", target.as_str()));
    }
    Ok(())
}

/// What a login attempt decided: success, or the failure record to write and the error to give.
pub enum LoginOutcome {
    Success(UserSummary),
    Failure(LoginFailed, CoreError),
}

/// Checks a login attempt against the stored account. Writes nothing: the caller records the
/// outcome (both outcomes are records).
pub fn check_login(
    conn: &rusqlite::Connection,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<LoginOutcome> {
    let username = username.trim().to_lowercase();
    let Some(creds) = credentials(conn, &username)? else {
        let _ = hash_password(password); // same work as a real check: no user enumeration by timing
        return Ok(LoginOutcome::Failure(
            failed(&username, None, "unknown_user", 0, None),
            bad_credentials(),
        ));
    };
    let user = &creds.user;
    let still_locked = user
        .locked_until
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .filter(|t| *t > now);
    if let Some(until) = still_locked {
        let until = until.with_timezone(&Utc);
        let err = CoreError::new(ErrorCode::AccountLocked, "too many failed logins; account locked")
            .with("until", crate::clock::format_instant(until));
        return Ok(LoginOutcome::Failure(
            failed(
                &username,
                Some(&user.id),
                "locked",
                creds.failed_attempts,
                user.locked_until.clone(),
            ),
            err,
        ));
    }
    if !user.active {
        return Ok(LoginOutcome::Failure(
            failed(&username, Some(&user.id), "inactive", creds.failed_attempts, None),
            CoreError::new(ErrorCode::AccountInactive, "this account is deactivated"),
        ));
    }
    if verify_password(password, &creds.password_hash) {
        return Ok(LoginOutcome::Success(user.clone()));
    }
    // An expired lockout starts a fresh count.
    let previous = if user.locked_until.is_some() {
        0
    } else {
        creds.failed_attempts
    };
    let attempts = previous + 1;
    let locked_until = (attempts >= MAX_FAILED_LOGINS)
        .then(|| crate::clock::format_instant(now + Duration::minutes(LOCKOUT_MINUTES)));
    let err = match &locked_until {
        Some(until) => CoreError::new(ErrorCode::AccountLocked, "too many failed logins; account locked")
            .with("until", until.clone()),
        None => bad_credentials(),
    };
    Ok(LoginOutcome::Failure(
        failed(&username, Some(&user.id), "bad_password", attempts, locked_until),
        err,
    ))
}

fn failed(
    username: &str,
    user_id: Option<&UserId>,
    reason: &str,
    failed_attempts: u32,
    locked_until: Option<String>,
) -> LoginFailed {
    LoginFailed {
        // Whatever was typed at the login screen goes on the record: bounded, like any text.
        username: truncated(username, LOGIN_NAME_MAX),
        user_id: user_id.cloned(),
        reason: reason.to_owned(),
        failed_attempts,
        locked_until,
    }
}

fn bad_credentials() -> CoreError {
    CoreError::new(ErrorCode::BadCredentials, "wrong username or password")
}

/// Binds a cashier account to cashier terminals (replacing its earlier list).
pub fn set_cashier_terminals(
    ledger: &mut Ledger,
    actor: &Actor,
    user_id: &UserId,
    device_ids: &[DeviceId],
) -> Result<Vec<DeviceId>> {
    let user = user_by_id(ledger.conn(), user_id)?;
    if user.role != Role::Cashier {
        return Err(CoreError::invalid("user_id", "not_a_cashier"));
    }
    let mut devices: Vec<DeviceId> = device_ids
        .iter()
        .map(|d| DeviceId::new(d.trim().to_lowercase()))
        .collect();
    if devices
        .iter()
        .any(|d| d.len() != 32 || !d.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(CoreError::invalid("device_ids", "device_id_format"));
    }
    devices.sort();
    devices.dedup();
    let event = CashierTerminalsSet {
        user_id: user.id,
        device_ids: devices,
    };
    ledger.append(actor, event.into())?;
    cashier_terminals(ledger.conn(), user_id)
}

/// Once this workstation (`here`) is enrolled in a branch, a cashier works only at the cashier
/// terminals their account is bound to (the branch server refuses their records elsewhere).
pub fn may_work_here(conn: &Connection, user: &UserSummary, here: &DeviceId) -> Result<bool> {
    if user.role != Role::Cashier || crate::devices::enrolment(conn)?.is_none() {
        return Ok(true);
    }
    Ok(cashier_terminals(conn, &user.id)?.contains(here))
}

/// Wrong passwords typed at the lock screen before the session is ended.
pub const MAX_UNLOCK_ATTEMPTS: u32 = 5;

/// What a wrong password at the lock screen does to the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailedUnlock {
    StayLocked,
    /// [`MAX_UNLOCK_ATTEMPTS`] wrong passwords, or the account itself got locked.
    EndSession,
}

/// Counts a wrong unlock (`failed_unlocks` is the session's count; `err` what the password
/// check said) and says whether the session ends.
pub fn failed_unlock(failed_unlocks: &mut u32, err: &CoreError) -> AfterFailedUnlock {
    *failed_unlocks += 1;
    if *failed_unlocks >= MAX_UNLOCK_ATTEMPTS || err.code == ErrorCode::AccountLocked {
        AfterFailedUnlock::EndSession
    } else {
        AfterFailedUnlock::StayLocked
    }
}

// ---- the branch server's admission rules ----

const ALREADY_SET_UP: &str = "setup: this branch is already set up";

/// The branch's first record: only while the branch has none.
pub(super) fn admit_branch_created(cx: &AdmitContext<'_>) -> Result<Admit> {
    Ok(if branch(cx.conn)?.is_some() {
        Admit::Refuse(ALREADY_SET_UP.into())
    } else {
        Admit::Founding
    })
}

/// A user created by that same user is the branch's first admin: only an admin, only right
/// after the branch, before any other account.
pub(super) fn admit_founding_admin(cx: &AdmitContext<'_>, u: &UserCreated) -> Result<Admit> {
    if cx.record.body.actor_user_id.as_deref() != Some(u.user_id.as_str()) {
        return Ok(Admit::Check);
    }
    let founding = u.role == Role::Admin && branch(cx.conn)?.is_some() && no_users(cx.conn)?;
    Ok(if founding {
        Admit::Founding
    } else {
        Admit::Refuse(ALREADY_SET_UP.into())
    })
}

/// Only admins administer admins and managers ([`crate::permissions::may_administer`]).
pub(super) fn admit_administering(actor_role: Option<Role>, target: Role) -> Option<String> {
    let actor = actor_role?;
    (!crate::permissions::may_administer(actor, target))
        .then(|| format!("forbidden: a {actor} may not administer a {target}"))
}

/// [`admit_administering`] for a record about an existing account.
pub(super) fn admit_administering_user(
    cx: &AdmitContext<'_>,
    actor_role: Option<Role>,
    user_id: &UserId,
) -> Result<Option<String>> {
    match user_by_id(cx.conn, user_id) {
        Ok(u) => Ok(admit_administering(actor_role, u.role)),
        Err(e) if e.code == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The server's rule for every record a cashier causes: only from a terminal bound to them.
pub fn admit_cashier_terminal(conn: &Connection, record: &crate::record::Record) -> Result<Option<String>> {
    let b = &record.body;
    if b.actor_role.as_deref() != Some(Role::Cashier.as_str()) {
        return Ok(None);
    }
    let Some(user_id) = b.actor_user_id.clone().map(UserId::from) else {
        return Ok(None);
    };
    let bound = super::queries::cashier_terminals(conn, &user_id)?
        .iter()
        .any(|d| d.as_str() == b.device_id);
    Ok((!bound).then(|| {
        format!(
            "cashier_terminal_not_bound: device {} is not a terminal of this cashier",
            b.device_id
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_wrong_unlock_or_a_locked_account_ends_the_session() {
        let wrong = bad_credentials();
        let mut count = 0;
        for _ in 1..MAX_UNLOCK_ATTEMPTS {
            assert_eq!(failed_unlock(&mut count, &wrong), AfterFailedUnlock::StayLocked);
        }
        assert_eq!(failed_unlock(&mut count, &wrong), AfterFailedUnlock::EndSession);
        assert_eq!(count, MAX_UNLOCK_ATTEMPTS);
        let locked = CoreError::new(ErrorCode::AccountLocked, "locked");
        assert_eq!(failed_unlock(&mut 0, &locked), AfterFailedUnlock::EndSession);
    }
}
