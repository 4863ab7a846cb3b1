//! The only code writing the `device_revocations` table.

use super::records::DeviceRevoked;
use super::rules::already_revoked;
use crate::Result;
use crate::kind::{Applied, Finder, Kind, SubjectKind};
use rusqlite::{Transaction, params};

pub(super) fn revoked(tx: &Transaction<'_>, r: &DeviceRevoked, at: &Applied<'_>) -> Result<()> {
    let b = &at.record.body;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO device_revocations
               (device_id, record_id, revoked_at, by_user_id, by_device_id, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (device_id) DO NOTHING",
        )?
        .execute(params![
            r.device_id,
            b.id,
            b.device_time,
            b.actor_user_id,
            b.device_id,
            r.reason
        ])?;
    if inserted == 0 {
        return Err(already_revoked(&r.device_id));
    }
    Ok(())
}

/// The devices area's subject (`device:<id>`, its revocation), for [`crate::replay`].
pub const SUBJECTS: &[SubjectKind] = &[SubjectKind {
    prefix: "device",
    finder: Finder::Kind(DeviceRevoked::KIND),
    tables: &["device_revocations"],
    delete: delete_revocation_projection,
}];

/// Deletes a device's revocation row (subject `device:<id>`), before [`crate::replay`]
/// re-applies the revocations naming it.
pub(crate) fn delete_revocation_projection(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM device_revocations WHERE device_id = ?1")?
        .execute([device_id])?;
    Ok(())
}
