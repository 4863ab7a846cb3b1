//! Accounts: the branch, its users and roles, passwords (argon2id), login and lockout.
//!
//! Rules that live here: one role per account; passwords of at least 8 characters; 5 failed
//! logins lock an account for 15 minutes; users are deactivated, never deleted; the last active
//! admin cannot be deactivated; only admins administer admins and managers
//! ([`crate::permissions::may_administer`]).

use crate::events::{Applied, Project};
use crate::ledger::{Actor, Ledger};
use crate::permissions::Role;
use crate::text::{LOGIN_NAME_MAX, NAME_MAX, PASSWORD_MAX, bounded, truncated};
use crate::{CoreError, ErrorCode, Result};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const MIN_PASSWORD_LEN: usize = 8;

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

    fn parse(s: &str) -> Language {
        if s == "ar" { Language::Ar } else { Language::En }
    }
}

// ---- inputs and views (cross the IPC boundary) ----

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
    pub id: String,
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
    pub id: String,
    pub code: String,
    pub name: String,
}

// ---- records ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCreated {
    pub branch_id: String,
    pub code: String,
    pub name: String,
}

impl Project for BranchCreated {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        tx.execute(
            "INSERT INTO branch (id, code, name, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![self.branch_id, self.code, self.name, at.time()],
        )?;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreated {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The argon2id PHC string (never the password): accounts must reach every workstation so
    /// staff can log in anywhere, offline too.
    pub password_hash: String,
    pub language: Language,
}

impl Project for UserCreated {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        tx.execute(
            "INSERT INTO users (id, username, display_name, role, password_hash, language, active,
                failed_attempts, locked_until, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, 0, NULL, ?7, ?7)",
            params![
                self.user_id,
                self.username,
                self.display_name,
                self.role.as_str(),
                self.password_hash,
                self.language.as_str(),
                at.time()
            ],
        )?;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    pub user_id: String,
    pub password_hash: String,
}

impl Project for PasswordReset {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        // A reset also lifts a lockout: the manager has identified the user.
        update_user(
            tx,
            "password_hash = ?2, failed_attempts = 0, locked_until = NULL",
            &self.user_id,
            &self.password_hash,
            at,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeactivated {
    pub user_id: String,
}

impl Project for UserDeactivated {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        update_user(tx, "active = ?2", &self.user_id, &0, at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReactivated {
    pub user_id: String,
}

impl Project for UserReactivated {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        update_user(tx, "active = ?2", &self.user_id, &1, at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageSet {
    pub user_id: String,
    pub language: Language,
}

impl Project for LanguageSet {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        update_user(tx, "language = ?2", &self.user_id, &self.language.as_str(), at)
    }
}

/// The cashier terminals (device ids) a cashier account may work at; replaces the earlier list.
/// Once a workstation is enrolled in a branch, a cashier logs in only at a bound terminal, and
/// the branch server refuses a cashier's records from any other device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CashierTerminalsSet {
    pub user_id: String,
    pub device_ids: Vec<String>,
}

impl Project for CashierTerminalsSet {
    fn apply(&self, tx: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        tx.execute(
            "DELETE FROM cashier_terminals WHERE user_id = ?1",
            [&self.user_id],
        )?;
        for device in &self.device_ids {
            tx.execute(
                "INSERT INTO cashier_terminals (user_id, device_id) VALUES (?1, ?2)",
                params![self.user_id, device],
            )?;
        }
        Ok(())
    }
}

/// The terminals `user_id` may work at as a cashier.
pub fn cashier_terminals(conn: &rusqlite::Connection, user_id: &str) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached("SELECT device_id FROM cashier_terminals WHERE user_id = ?1 ORDER BY device_id")?
        .query_map([user_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Binds a cashier account to cashier terminals (replacing its earlier list).
pub fn set_cashier_terminals(
    ledger: &mut Ledger,
    actor: &Actor,
    user_id: &str,
    device_ids: &[String],
) -> Result<Vec<String>> {
    let user = user_by_id(ledger.conn(), user_id)?;
    if user.role != Role::Cashier {
        return Err(CoreError::invalid("user_id", "not_a_cashier"));
    }
    let mut devices: Vec<String> = device_ids.iter().map(|d| d.trim().to_lowercase()).collect();
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSucceeded {
    pub user_id: String,
    pub session_id: String,
}

impl Project for LoginSucceeded {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        update_user(
            tx,
            "failed_attempts = ?2, locked_until = NULL",
            &self.user_id,
            &0,
            at,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailed {
    pub username: String,
    /// `None` when no such user exists.
    pub user_id: Option<String>,
    /// bad_password, unknown_user, locked, inactive
    pub reason: String,
    /// The count after this attempt (decided when written, so rebuilds agree).
    pub failed_attempts: u32,
    pub locked_until: Option<String>,
}

impl Project for LoginFailed {
    fn apply(&self, tx: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        if let (Some(user_id), "bad_password") = (&self.user_id, self.reason.as_str()) {
            tx.execute(
                "UPDATE users SET failed_attempts = ?2, locked_until = ?3 WHERE id = ?1",
                params![user_id, self.failed_attempts, self.locked_until],
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedOut {
    pub user_id: String,
    pub session_id: String,
}

impl Project for LoggedOut {
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionLocked {
    pub user_id: String,
    pub session_id: String,
    pub idle_minutes: u32,
}

impl Project for SessionLocked {
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUnlocked {
    pub user_id: String,
    pub session_id: String,
}

impl Project for SessionUnlocked {
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

/// Tables holding rows of one user account (subject `user:<id>`), which
/// [`delete_user_projection`] empties.
pub const USER_TABLES: &[&str] = &["users", "cashier_terminals"];

/// Deletes one account's rows (its user row, its cashier terminals), before
/// [`crate::replay`] re-applies that account's records.
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

fn update_user(
    tx: &Transaction<'_>,
    set: &str,
    user_id: &str,
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

// ---- rules ----

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

pub fn branch(conn: &rusqlite::Connection) -> Result<Option<BranchInfo>> {
    Ok(conn
        .query_row("SELECT id, code, name FROM branch LIMIT 1", [], |r| {
            Ok(BranchInfo {
                id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
            })
        })
        .optional()?)
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
        user_id: Some(created.user_id.clone()),
        role: Some(Role::Admin),
        session_id: None,
    };
    let branch = BranchCreated {
        branch_id: uuid::Uuid::now_v7().to_string(),
        code,
        name,
    };
    ledger.append_all(&actor, vec![branch.into(), created.clone().into()])?;
    user_by_id(ledger.conn(), &created.user_id)
}

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
        user_id: uuid::Uuid::now_v7().to_string(),
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

pub fn reset_password(ledger: &mut Ledger, actor: &Actor, user_id: &str, password: &str) -> Result<()> {
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

pub fn set_active(ledger: &mut Ledger, actor: &Actor, user_id: &str, active: bool) -> Result<UserSummary> {
    let target = user_by_id(ledger.conn(), user_id)?;
    require_may_administer(actor, target.role)?;
    if target.active == active {
        return Ok(target);
    }
    if !active {
        if actor.user_id.as_deref() == Some(user_id) {
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

fn active_admins(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1",
        [],
        |r| r.get(0),
    )?)
}

/// A user row with its password hash and lockout state, for login.
pub struct Credentials {
    pub user: UserSummary,
    pub password_hash: String,
    pub failed_attempts: u32,
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
    user_id: Option<&str>,
    reason: &str,
    failed_attempts: u32,
    locked_until: Option<String>,
) -> LoginFailed {
    LoginFailed {
        // Whatever was typed at the login screen goes on the record: bounded, like any text.
        username: truncated(username, LOGIN_NAME_MAX),
        user_id: user_id.map(str::to_owned),
        reason: reason.to_owned(),
        failed_attempts,
        locked_until,
    }
}

fn bad_credentials() -> CoreError {
    CoreError::new(ErrorCode::BadCredentials, "wrong username or password")
}

const USER_COLUMNS: &str = "id, username, display_name, role, language, active, locked_until, created_at, password_hash, failed_attempts";

fn read_credentials(r: &rusqlite::Row<'_>) -> rusqlite::Result<Credentials> {
    let role: String = r.get(3)?;
    let language: String = r.get(4)?;
    Ok(Credentials {
        user: UserSummary {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            role: role.parse().unwrap_or(Role::Receptionist),
            language: Language::parse(&language),
            active: r.get::<_, i64>(5)? == 1,
            locked_until: r.get(6)?,
            created_at: r.get(7)?,
        },
        password_hash: r.get(8)?,
        failed_attempts: r.get(9)?,
    })
}

fn credentials(conn: &rusqlite::Connection, username: &str) -> Result<Option<Credentials>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
    Ok(conn.query_row(&sql, [username], read_credentials).optional()?)
}

pub fn user_by_username(conn: &rusqlite::Connection, username: &str) -> Result<Option<UserSummary>> {
    Ok(credentials(conn, username)?.map(|c| c.user))
}

pub fn user_by_id(conn: &rusqlite::Connection, id: &str) -> Result<UserSummary> {
    // Cached: the server looks up the actor of every record it admits.
    conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id], read_credentials)
        .optional()?
        .map(|c| c.user)
        .ok_or_else(|| CoreError::not_found("user"))
}

pub fn password_hash_of(conn: &rusqlite::Connection, id: &str) -> Result<String> {
    Ok(
        conn.query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}

pub fn list_users(conn: &rusqlite::Connection) -> Result<Vec<UserSummary>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY role, username");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], read_credentials)?;
    Ok(rows.map(|r| r.map(|c| c.user)).collect::<rusqlite::Result<_>>()?)
}
