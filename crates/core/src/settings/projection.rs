//! The only code writing the `settings` table.

use super::records::SettingChanged;
use crate::Result;
use crate::kind::{Finder, Kind, SubjectKind};
use rusqlite::{Transaction, params};

pub(super) fn setting_changed(tx: &Transaction<'_>, s: &SettingChanged) -> Result<()> {
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![s.key, s.value],
    )?;
    Ok(())
}

/// The settings area's subject (`setting:<key>`), for [`crate::replay`].
pub const SUBJECTS: &[SubjectKind] = &[SubjectKind {
    prefix: "setting",
    finder: Finder::Kind(SettingChanged::KIND),
    tables: &["settings"],
    delete: delete_setting_projection,
}];

/// Deletes one setting's row (subject `setting:<key>`), before [`crate::replay`] re-applies
/// its changes.
pub(crate) fn delete_setting_projection(tx: &Transaction<'_>, key: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM settings WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}
