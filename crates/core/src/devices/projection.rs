//! The only code writing the `device_revocations` table.

use super::records::DeviceRevoked;
use super::rules::already_revoked;
use crate::Result;
use crate::kind::Applied;
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
