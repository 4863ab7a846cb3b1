//! The only code reading the `settings` table (sessions read the idle lock from here).

use crate::Result;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

pub const IDLE_LOCK_MINUTES: &str = "idle_lock_minutes";
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 10;

// The branch's settings as the UI shows them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Settings {
    /// Minutes without activity before a session asks for the password again.
    pub idle_lock_minutes: u32,
}

pub fn get(conn: &rusqlite::Connection) -> Result<Settings> {
    let idle: Option<String> = conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([IDLE_LOCK_MINUTES], |r| r.get(0))
        .optional()?;
    Ok(Settings {
        idle_lock_minutes: idle
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_IDLE_LOCK_MINUTES),
    })
}
