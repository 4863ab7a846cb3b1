//! Revoking a workstation from another one (`Workstation::revoke_device`): what is checked
//! before the `device.revoked` record is written, and how the branch's device list shows it.

mod common;

use common::*;
use dentpro_core::ErrorCode;
use dentpro_core::devices::DeviceKind;

fn reason(e: &dentpro_core::CoreError) -> &str {
    e.details.get("reason").map(String::as_str).unwrap_or("")
}

#[test]
fn an_admin_revokes_another_known_workstation_once_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let chair_dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let s = admin.session_id.clone();
    let (chair, records) = enrolled_device(chair_dir.path(), &clock, DeviceKind::Doctor, "Chair 2");
    pull_into(&mut ws, &records);
    let devices = ws.devices().branch_devices(&s).unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(
        (devices[0].kind, devices[0].label.as_str()),
        (DeviceKind::Doctor, "Chair 2")
    );
    assert!(devices[0].revoked.is_none());
    assert!(!devices[0].enrolled_at.is_empty());

    let before = record_count(&ws);
    let own = ws.device_id().to_owned();
    let cases: [(&str, &str, ErrorCode, &str); 5] = [
        (&chair, "   ", ErrorCode::Invalid, "required"),
        ("", "stolen", ErrorCode::Invalid, "required"),
        (&own, "stolen", ErrorCode::Invalid, "cannot_revoke_self"),
        (
            "0123456789abcdef0123456789abcdef",
            "stolen",
            ErrorCode::Invalid,
            "unknown_device",
        ),
        (&chair, &"x".repeat(501), ErrorCode::Invalid, "too_long"),
    ];
    for (device, why, code, expected) in cases {
        let err = assert_code(ws.devices().revoke(&s, &device.into(), why), code);
        assert_eq!(reason(&err), expected, "{err:?}");
    }
    assert_eq!(record_count(&ws), before, "a refused revocation writes nothing");

    // Device ids are taken in any case; the reason is kept trimmed.
    let revoked = ws
        .devices()
        .revoke(&s, &chair.to_uppercase().into(), "  Stolen from surgery 2  ")
        .unwrap();
    let r = revoked.revoked.expect("revoked");
    assert_eq!(r.reason, "Stolen from surgery 2");
    assert_eq!(r.by_user_id.as_deref(), Some(admin.user_id.as_str()));
    assert_eq!(r.by_name.as_deref(), Some("Adel Admin"));
    assert_eq!(r.by_device_id, own.as_str());
    assert_eq!(r.revoked_at, dentpro_core::clock::format_instant(start_time()));
    assert_eq!(last_record(&ws).0, "device.revoked");
    assert_eq!(
        ws.devices().branch_devices(&s).unwrap()[0].revoked.as_ref(),
        Some(&r)
    );
    // The list is a projection of the records like any other table.
    assert_eq!(
        dentpro_core::audit::compare_projections(ws.ledger().conn()).unwrap(),
        None
    );

    let again = assert_code(ws.devices().revoke(&s, &chair, "twice"), ErrorCode::Conflict);
    assert_eq!(reason(&again), "already_revoked");
}
