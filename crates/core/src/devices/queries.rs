//! The only code reading the devices area's tables and records (`device.enrolled` records,
//! `device_revocations`).

use super::records::{DeviceEnrolled, DeviceRevoked};
use super::views::{BranchDevice, DeviceRevocation, Enrolment};
use crate::kind::Kind;
use crate::record::Record;
use crate::{CoreError, Result, registry, store};
use rusqlite::Connection;

/// Where this workstation's enrolment is kept (`meta`), beside its `device.enrolled` record.
pub(crate) const ENROLMENT_KEY: &str = "sync.enrolment";

/// The branch server this workstation is enrolled with, if any.
pub fn enrolment(conn: &Connection) -> Result<Option<Enrolment>> {
    store::meta_get(conn, ENROLMENT_KEY)?
        .map(|json| serde_json::from_str(&json).map_err(CoreError::from))
        .transpose()
}

/// Every enrolled workstation this one has heard of (itself included), in log order.
pub fn branch_devices(conn: &Connection) -> Result<Vec<BranchDevice>> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT r.device_id, r.payload, r.device_time, v.revoked_at, v.by_user_id, u.display_name,
                v.by_device_id, v.reason
         FROM records r INDEXED BY records_kind
         LEFT JOIN device_revocations v ON v.device_id = r.device_id
         LEFT JOIN users u ON u.id = v.by_user_id
         WHERE r.kind = 'device.enrolled' AND r.",
        crate::kind_indexed!(),
        " ORDER BY r.local_index"
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let enrolled: DeviceEnrolled = serde_json::from_slice(&row.get::<_, Vec<u8>>(1)?)?;
        let revoked = match row.get::<_, Option<String>>(3)? {
            None => None,
            Some(revoked_at) => Some(DeviceRevocation {
                revoked_at,
                by_user_id: row.get(4)?,
                by_name: row.get(5)?,
                by_device_id: row.get(6)?,
                reason: row.get(7)?,
            }),
        };
        out.push(BranchDevice {
            device_id: row.get(0)?,
            kind: enrolled.device_kind,
            label: enrolled.label,
            enrolled_at: row.get(2)?,
            revoked,
        });
    }
    Ok(out)
}

/// The revocation a record carries, if it is a `device.revoked` record (the server marks the
/// device when it accepts one).
pub fn revocation_in(record: &Record) -> Option<DeviceRevoked> {
    let b = &record.body;
    if b.kind != DeviceRevoked::KIND {
        return None;
    }
    registry::decode(&b.kind, b.kind_version, &b.payload)
        .ok()?
        .get::<DeviceRevoked>()
        .cloned()
}
