//! The only code reading the accounts area's tables, for this area and the others.

use super::records::Language;
use super::views::{BranchInfo, UserSummary};
use crate::ids::{DeviceId, UserId};
use crate::permissions::Role;
use crate::{CoreError, Result};
use rusqlite::{Connection, OptionalExtension};

/// A user row with its password hash and lockout state, for login.
pub struct Credentials {
    pub user: UserSummary,
    pub password_hash: String,
    pub failed_attempts: u32,
}

/// SQL for the user account a record (of table alias `r`) concerns: its payload's `user_id`.
/// Written exactly as in the `records_user` index (migration V11), so lookups use it.
pub const USER_OF_RECORD: &str = "json_extract(CAST(r.payload AS TEXT), '$.user_id')";

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

pub fn branch(conn: &Connection) -> Result<Option<BranchInfo>> {
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

pub fn credentials(conn: &Connection, username: &str) -> Result<Option<Credentials>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
    Ok(conn.query_row(&sql, [username], read_credentials).optional()?)
}

pub fn user_by_username(conn: &Connection, username: &str) -> Result<Option<UserSummary>> {
    Ok(credentials(conn, username)?.map(|c| c.user))
}

pub fn user_by_id(conn: &Connection, id: &UserId) -> Result<UserSummary> {
    // Cached: the server looks up the actor of every record it admits.
    conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id], read_credentials)
        .optional()?
        .map(|c| c.user)
        .ok_or_else(|| CoreError::not_found("user"))
}

pub fn password_hash_of(conn: &Connection, id: &UserId) -> Result<String> {
    Ok(
        conn.query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}

pub fn list_users(conn: &Connection) -> Result<Vec<UserSummary>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY role, username");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], read_credentials)?;
    Ok(rows.map(|r| r.map(|c| c.user)).collect::<rusqlite::Result<_>>()?)
}

/// The terminals `user_id` may work at as a cashier.
pub fn cashier_terminals(conn: &Connection, user_id: &UserId) -> Result<Vec<DeviceId>> {
    Ok(conn
        .prepare_cached("SELECT device_id FROM cashier_terminals WHERE user_id = ?1 ORDER BY device_id")?
        .query_map([user_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn active_admins(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1",
        [],
        |r| r.get(0),
    )?)
}

pub(crate) fn no_users(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))? == 0)
}
