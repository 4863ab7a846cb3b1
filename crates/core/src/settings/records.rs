//! The settings area's signed payload: one setting changed.

use super::projection;
use crate::Result;
use crate::kind::{Applied, Kind};
use crate::permissions::Action;
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChanged {
    pub key: String,
    pub value: String,
}

impl Kind for SettingChanged {
    const KIND: &'static str = "settings.changed";
    const ACTION: Option<Action> = Some(Action::SettingsEdit);
    const TABLES: &'static [&'static str] = &["settings"];
    fn subjects(&self) -> Vec<String> {
        vec![format!("setting:{}", self.key)]
    }
    fn apply(&self, tx: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        projection::setting_changed(tx, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::assert_payload_json;

    #[test]
    fn the_settings_payload_keeps_its_json() {
        assert_payload_json(
            &SettingChanged {
                key: "idle_lock_minutes".into(),
                value: "15".into(),
            },
            r#"{"key":"idle_lock_minutes","value":"15"}"#,
        );
    }
}
