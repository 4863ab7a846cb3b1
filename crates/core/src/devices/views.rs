//! What the devices screen and enrolment take and give across the IPC boundary.

use super::records::DeviceKind;
use crate::ids::{DeviceId, UserId};
use crate::{CoreError, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The branch server a workstation is enrolled with: where it is, the TLS certificate and the
/// checkpoint-signing key pinned at enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Enrolment {
    pub server_url: String,
    /// SHA-256 of the server's certificate (hex): the only certificate this workstation accepts.
    pub certificate_fingerprint: String,
    /// The server's Ed25519 key (hex) that signs checkpoints and access tokens.
    pub server_key: String,
    pub branch_name: String,
    pub device_kind: DeviceKind,
    pub label: String,
    pub enrolled_at: String,
}

/// A workstation of the branch, as its own `device.enrolled` record says (every device's
/// records travel with the log, so this needs no network), and its revocation, if an admin
/// revoked it (a `device.revoked` record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BranchDevice {
    pub device_id: DeviceId,
    pub kind: DeviceKind,
    pub label: String,
    /// When it enrolled (its own clock, RFC 3339).
    pub enrolled_at: String,
    pub revoked: Option<DeviceRevocation>,
}

/// Who revoked a workstation, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeviceRevocation {
    /// The revoking workstation's clock (RFC 3339).
    pub revoked_at: String,
    pub by_user_id: Option<UserId>,
    pub by_name: Option<String>,
    /// The workstation it was revoked from.
    pub by_device_id: DeviceId,
    pub reason: String,
}

/// What the branch server says about one device (`GET /v1/devices`), as the overview needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveDevice {
    pub device_id: DeviceId,
    pub kind: DeviceKind,
    pub label: String,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    pub last_seen_at: Option<String>,
    /// The last seq of the device the server's log holds.
    pub logged_seq: u64,
    /// Log entries the device has not pulled yet.
    pub pull_lag: u64,
}

/// One workstation on the devices screen: what this workstation's records say, with the branch
/// server's figures when it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeviceStatus {
    pub device_id: DeviceId,
    pub kind: DeviceKind,
    pub label: String,
    /// When it enrolled (RFC 3339); `None` if only the server knows it yet.
    pub enrolled_at: Option<String>,
    /// The workstation this list is shown on.
    pub this_workstation: bool,
    /// Revoked by an admin's `device.revoked` record.
    pub revoked: Option<DeviceRevocation>,
    /// When the branch server started refusing it (a revocation it accepted, or one made at the
    /// server's console); live figures only.
    pub server_revoked_at: Option<String>,
    /// The branch server knows it, but none of its records reached this workstation yet.
    pub server_only: bool,
    /// Its last call to the branch server (live figure: `None` when the server did not answer).
    pub last_seen_at: Option<String>,
    /// The last of its records the server's log holds (live figure).
    pub logged_seq: Option<u64>,
    /// Log entries it has not pulled yet: its sync lag (live figure).
    pub pull_lag: Option<u64>,
}

/// The devices screen: every workstation of the branch, and whether the server's figures are in.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeviceOverview {
    pub devices: Vec<DeviceStatus>,
    /// This workstation is enrolled with a branch server.
    pub enrolled: bool,
    /// The branch server answered: last seen and lag are current.
    pub live: bool,
    /// Why the live figures are missing (the server unreachable, or refusing this workstation).
    pub live_error: Option<CoreError>,
}

/// Merges this workstation's list (from the records) with the branch server's answer:
/// `Ok(None)` when not enrolled, an error when the server could not be asked. Never fails:
/// offline, the local list is the answer.
pub fn device_overview(
    local: Vec<BranchDevice>,
    this_device_id: &str,
    live: Result<Option<Vec<LiveDevice>>>,
) -> DeviceOverview {
    let (enrolled, live, live_error) = match live {
        Ok(None) => (false, None, None),
        Ok(Some(devices)) => (true, Some(devices), None),
        Err(e) => (true, None, Some(e)),
    };
    let mut server: HashMap<DeviceId, LiveDevice> = live
        .iter()
        .flatten()
        .map(|d| (d.device_id.clone(), d.clone()))
        .collect();
    let mut devices: Vec<DeviceStatus> = local
        .into_iter()
        .map(|d| {
            let l = server.remove(d.device_id.as_str());
            DeviceStatus {
                this_workstation: d.device_id == this_device_id,
                enrolled_at: Some(d.enrolled_at),
                server_revoked_at: l.as_ref().and_then(|l| l.revoked_at.clone()),
                server_only: false,
                last_seen_at: l.as_ref().and_then(|l| l.last_seen_at.clone()),
                logged_seq: l.as_ref().map(|l| l.logged_seq),
                pull_lag: l.as_ref().map(|l| l.pull_lag),
                device_id: d.device_id,
                kind: d.kind,
                label: d.label,
                revoked: d.revoked,
            }
        })
        .collect();
    // Devices the server knows whose records have not reached this workstation yet, in the
    // server's order.
    for l in live.into_iter().flatten() {
        if server.remove(&l.device_id).is_some() {
            devices.push(DeviceStatus {
                this_workstation: l.device_id == this_device_id,
                enrolled_at: Some(l.enrolled_at),
                revoked: None,
                server_revoked_at: l.revoked_at,
                server_only: true,
                last_seen_at: l.last_seen_at,
                logged_seq: Some(l.logged_seq),
                pull_lag: Some(l.pull_lag),
                device_id: l.device_id,
                kind: l.kind,
                label: l.label,
            });
        }
    }
    DeviceOverview {
        live: live_error.is_none() && enrolled,
        devices,
        enrolled,
        live_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn local(id: &str) -> BranchDevice {
        BranchDevice {
            device_id: id.into(),
            kind: DeviceKind::Reception,
            label: format!("desk {id}"),
            enrolled_at: "2026-03-02T08:00:00Z".into(),
            revoked: None,
        }
    }

    fn live(id: &str, lag: u64) -> LiveDevice {
        LiveDevice {
            device_id: id.into(),
            kind: DeviceKind::Doctor,
            label: format!("chair {id}"),
            enrolled_at: "2026-03-02T08:00:00Z".into(),
            revoked_at: None,
            last_seen_at: Some("2026-03-02T09:00:00Z".into()),
            logged_seq: 7,
            pull_lag: lag,
        }
    }

    #[test]
    fn the_overview_merges_the_servers_figures_and_keeps_the_local_list_offline() {
        let o = device_overview(
            vec![local("a"), local("b")],
            "a",
            Ok(Some(vec![live("b", 3), live("c", 9)])),
        );
        assert!(o.live && o.enrolled && o.live_error.is_none());
        let ids: Vec<_> = o.devices.iter().map(|d| d.device_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert!(o.devices[0].this_workstation && o.devices[0].last_seen_at.is_none());
        assert_eq!(o.devices[1].pull_lag, Some(3));
        assert_eq!(o.devices[1].label, "desk b", "the records name it");
        assert!(o.devices[2].server_only && o.devices[2].pull_lag == Some(9));

        let offline = device_overview(
            vec![local("a")],
            "a",
            Err(CoreError::new(ErrorCode::SyncUnavailable, "down")),
        );
        assert!(!offline.live && offline.enrolled);
        assert_eq!(offline.live_error.unwrap().code, ErrorCode::SyncUnavailable);
        assert_eq!(offline.devices.len(), 1);
        assert_eq!(offline.devices[0].pull_lag, None);

        let alone = device_overview(vec![local("a")], "a", Ok(None));
        assert!(!alone.live && !alone.enrolled && alone.live_error.is_none());
    }
}
