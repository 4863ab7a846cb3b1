//! The devices area's rules: revoking a workstation, and the branch server's admission rules
//! for device records.

use super::queries::{ENROLMENT_KEY, branch_devices, enrolment};
use super::records::{DeviceEnrolled, DeviceInitialized, DeviceRevoked};
use super::views::{BranchDevice, Enrolment};
use crate::ids::DeviceId;
use crate::kind::{Admit, AdmitContext};
use crate::ledger::{Actor, Ledger};
use crate::text::{LABEL_MAX, NAME_MAX, TICKET_MAX, bounded};
use crate::{CoreError, ErrorCode, Result, store};
use rusqlite::{Connection, OptionalExtension};

pub(super) fn already_revoked(device_id: &str) -> CoreError {
    CoreError::new(
        ErrorCode::Conflict,
        format!("device {device_id} is already revoked"),
    )
    .with("reason", "already_revoked")
    .with("device_id", device_id)
}

/// Longest revocation reason kept (characters).
pub const MAX_REVOCATION_REASON: usize = crate::text::REASON_MAX;

/// Revokes another enrolled workstation of the branch (the caller checked the actor may): a
/// `device.revoked` record, which the branch server acts on when it accepts it.
pub fn revoke_device(
    ledger: &mut Ledger,
    actor: &Actor,
    device_id: &DeviceId,
    reason: &str,
) -> Result<BranchDevice> {
    let device_id = DeviceId::new(device_id.trim().to_lowercase());
    let reason = crate::text::bounded("reason", reason, MAX_REVOCATION_REASON)?;
    if device_id.is_empty() {
        return Err(CoreError::invalid("device_id", "required"));
    }
    if reason.is_empty() {
        return Err(CoreError::invalid("reason", "required"));
    }
    if device_id.as_str() == ledger.identity().device_id {
        return Err(CoreError::invalid("device_id", "cannot_revoke_self"));
    }
    let known = branch_devices(ledger.conn())?
        .into_iter()
        .find(|d| d.device_id == device_id)
        .ok_or_else(|| {
            CoreError::invalid("device_id", "unknown_device").with("device_id", device_id.as_str())
        })?;
    if known.revoked.is_some() {
        return Err(already_revoked(&device_id));
    }
    let event = DeviceRevoked {
        device_id: device_id.clone(),
        reason: reason.to_owned(),
    };
    ledger.append(actor, event.into())?;
    branch_devices(ledger.conn())?
        .into_iter()
        .find(|d| d.device_id.as_str() == device_id)
        .ok_or_else(|| CoreError::internal("a revoked device left the list"))
}

/// Keeps the enrolment (after the server accepted this device) and records it in the chain
/// (`device.enrolled`, by the device itself). Only once.
pub fn save_enrolment(ledger: &mut Ledger, enrolment: &Enrolment) -> Result<()> {
    if self::enrolment(ledger.conn())?.is_some() {
        return Err(CoreError::new(
            ErrorCode::AlreadySetUp,
            "this workstation is already enrolled",
        ));
    }
    // Part of it came from the server's answer: bounded before it goes on the record.
    bounded("branch_name", &enrolment.branch_name, NAME_MAX)?;
    bounded("enrolled_at", &enrolment.enrolled_at, NAME_MAX)?;
    let event = DeviceEnrolled {
        server_url: bounded("server_url", &enrolment.server_url, TICKET_MAX)?,
        server_certificate: bounded("server_certificate", &enrolment.certificate_fingerprint, 64)?,
        server_key: bounded("server_key", &enrolment.server_key, 64)?,
        device_kind: enrolment.device_kind,
        label: bounded("label", &enrolment.label, LABEL_MAX)?,
    };
    store::meta_set(ledger.conn(), ENROLMENT_KEY, &serde_json::to_string(enrolment)?)?;
    ledger.append(&Actor::system(), event.into())?;
    Ok(())
}

/// The genesis record must carry the key the device enrolled with.
pub(super) fn admit_genesis(cx: &AdmitContext<'_>, init: &DeviceInitialized) -> Admit {
    if init.public_key != hex::encode(cx.sender_key.as_bytes()) {
        return Admit::Refuse("genesis: the public key is not the enrolled one".into());
    }
    Admit::Check
}

pub(super) fn admit_revocation(cx: &AdmitContext<'_>, revoked: &DeviceRevoked) -> Result<Option<String>> {
    revocation_refusal(cx.conn, cx.record, revoked)
}

/// A revocation names a device whose enrolment the log holds, and not the revoking one.
fn revocation_refusal(
    conn: &Connection,
    record: &crate::record::Record,
    revoked: &DeviceRevoked,
) -> Result<Option<String>> {
    if revoked.device_id.as_str() == record.body.device_id {
        return Ok(Some(
            "self_revocation: a workstation may not revoke itself".into(),
        ));
    }
    let enrolled: Option<i64> = conn
        .prepare_cached(
            "SELECT 1 FROM records r JOIN record_log l ON l.local_index = r.local_index
             WHERE r.device_id = ?1 AND r.kind = 'device.enrolled' AND l.verdict = 'accepted'",
        )?
        .query_row([&revoked.device_id], |r| r.get(0))
        .optional()?;
    Ok(enrolled.is_none().then(|| {
        format!(
            "unknown_device: no enrolment of device {} is in the log",
            revoked.device_id
        )
    }))
}
