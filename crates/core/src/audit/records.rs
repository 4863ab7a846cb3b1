//! The audit area's signed payloads: refusals and verification runs are on the record too.

use crate::Result;
use crate::kind::{Applied, Kind};
use crate::permissions::Action;
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

/// A refused attempt: who tried what, and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDenied {
    pub action: String,
    pub reason: String,
    /// The file the refused caller asked for, as they gave it: text, not a
    /// [`crate::ids::PatientId`], because records of earlier versions hold it unbounded (an id
    /// is bounded when read) and a stored record must always read.
    pub patient_id: Option<String>,
}

impl Kind for AccessDenied {
    const KIND: &'static str = "access.denied";
    const ACTION: Option<Action> = None;
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

/// The outcome of a verification run from the app is itself recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerified {
    pub ok: bool,
    pub records_checked: i64,
    pub problem: Option<String>,
}

impl Kind for AuditVerified {
    const KIND: &'static str = "audit.verified";
    const ACTION: Option<Action> = Some(Action::AuditVerify);
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::assert_payload_json;

    /// The literals were captured from the payloads before the payload types were separated
    /// from the IPC types: a renamed field or a changed value format fails here.
    #[test]
    fn audit_payloads_keep_their_json() {
        assert_payload_json(
            &AccessDenied {
                action: "patient_view".into(),
                reason: "role cashier lacks patient_view".into(),
                patient_id: Some("0195f3a0-0000-7000-8000-000000000001".into()),
            },
            r#"{"action":"patient_view","patient_id":"0195f3a0-0000-7000-8000-000000000001","reason":"role cashier lacks patient_view"}"#,
        );
        assert_payload_json(
            &AccessDenied {
                action: "user_create".into(),
                reason: "role receptionist lacks user_create".into(),
                patient_id: None,
            },
            r#"{"action":"user_create","patient_id":null,"reason":"role receptionist lacks user_create"}"#,
        );
        assert_payload_json(
            &AuditVerified {
                ok: false,
                records_checked: 42,
                problem: Some("seq gap".into()),
            },
            r#"{"ok":false,"problem":"seq gap","records_checked":42}"#,
        );
    }
}
