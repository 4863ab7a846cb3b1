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
