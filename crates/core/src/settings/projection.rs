//! The only code writing the `settings` table.

use super::records::SettingChanged;
use crate::Result;
use rusqlite::{Transaction, params};

pub(super) fn setting_changed(tx: &Transaction<'_>, s: &SettingChanged) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![s.key, s.value],
    )?;
    Ok(())
}
