//! The settings area's rules: each value's range, and the record that changes it.

use super::queries::{IDLE_LOCK_MINUTES, Settings, get};
use super::records::SettingChanged;
use crate::ledger::{Actor, Ledger};
use crate::{CoreError, Result};

pub fn set_idle_lock_minutes(ledger: &mut Ledger, actor: &Actor, minutes: u32) -> Result<Settings> {
    if !(1..=240).contains(&minutes) {
        return Err(CoreError::invalid("idle_lock_minutes", "out_of_range")
            .with("min", "1")
            .with("max", "240"));
    }
    let event = SettingChanged {
        key: IDLE_LOCK_MINUTES.into(),
        value: minutes.to_string(),
    };
    ledger.append(actor, event.into())?;
    get(ledger.conn())
}
