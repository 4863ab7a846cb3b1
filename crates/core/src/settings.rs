//! Branch settings (settings_core): values an admin changes, each change a record.

use crate::events::{Applied, Project};
use crate::ledger::{Actor, Ledger};
use crate::{CoreError, Result};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

pub const IDLE_LOCK_MINUTES: &str = "idle_lock_minutes";
pub const DEFAULT_IDLE_LOCK_MINUTES: u32 = 10;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Settings {
    /// Minutes without activity before a session asks for the password again.
    pub idle_lock_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChanged {
    pub key: String,
    pub value: String,
}

impl Project for SettingChanged {
    fn apply(&self, tx: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![self.key, self.value],
        )?;
        Ok(())
    }
}

/// Deletes one setting's row (subject `setting:<key>`), before [`crate::replay`] re-applies
/// its changes.
pub(crate) fn delete_setting_projection(tx: &Transaction<'_>, key: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM settings WHERE key = ?1")?
        .execute([key])?;
    Ok(())
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

pub fn set_idle_lock_minutes(ledger: &mut Ledger, actor: &Actor, minutes: u32) -> Result<Settings> {
    if !(1..=240).contains(&minutes) {
        return Err(CoreError::invalid("idle_lock_minutes", "out_of_range")
            .with("min", "1")
            .with("max", "240"));
    }
    let event = SettingChanged {
        key: IDLE_LOCK_MINUTES.into(),
        value: minutes.to_string(),
    };
    ledger.append(actor, event.into())?;
    get(ledger.conn())
}
