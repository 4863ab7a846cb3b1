//! The branch's workstations: the list, enrolment's gate, revocation.

use super::{Area, CommandCase};
use dentpro_core::permissions::Action;

pub static AREA: Area = Area {
    name: "devices",
    prepare: |_| {},
    commands: &[
        CommandCase {
            name: "devices.branch_devices",
            action: Some(Action::DeviceList),
            writes: None,
            run: |b, c| b.ws.devices().branch_devices(&c.session).map(drop),
        },
        CommandCase {
            // Enrolling this (already set up) workstation with a branch server: the gate only.
            name: "devices.may_enrol",
            action: Some(Action::DeviceEnrol),
            writes: None,
            run: |b, c| b.ws.devices().may_enrol(Some(&c.session)),
        },
        CommandCase {
            name: "devices.revoke",
            action: Some(Action::DeviceRevoke),
            writes: Some("device.revoked"),
            // A role that may not revoke is refused before the device is even looked at.
            run: |b, c| {
                let victim = dentpro_core::devices::branch_devices(b.ws.ledger().conn())
                    .unwrap()
                    .into_iter()
                    .find(|d| d.revoked.is_none())
                    .map_or_else(|| "00".repeat(16).into(), |d| d.device_id);
                b.ws.devices()
                    .revoke(&c.session, &victim, &format!("lost ({} {})", c.role, c.n))
                    .map(|d| assert!(d.revoked.is_some()))
            },
        },
    ],
    other_records: |_| {},
};
