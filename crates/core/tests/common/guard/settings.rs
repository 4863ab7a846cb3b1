//! Branch settings.

use super::{Area, CommandCase};
use dentpro_core::permissions::Action;

pub static AREA: Area = Area {
    name: "settings",
    prepare: |_| {},
    commands: &[
        CommandCase {
            name: "settings.set_idle_lock_minutes",
            action: Some(Action::SettingsEdit),
            writes: Some("settings.changed"),
            run: |b, c| {
                b.ws.settings()
                    .set_idle_lock_minutes(&c.session, 12)
                    .map(|s| assert_eq!(s.idle_lock_minutes, 12))
            },
        },
        CommandCase {
            name: "settings.get",
            action: None,
            writes: None,
            run: |b, c| b.ws.settings().get(&c.session).map(drop),
        },
    ],
    other_records: |_| {},
};
