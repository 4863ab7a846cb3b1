//! What the audit trail's commands take and give across the IPC boundary.

use crate::ids::{DeviceId, PatientId, RecordId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditFilter {
    pub user_id: Option<UserId>,
    pub patient_id: Option<PatientId>,
    /// A kind, or a prefix ending in '.' (e.g. "patient.").
    pub kind: Option<String>,
    /// Business dates, inclusive, YYYY-MM-DD.
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEntry {
    pub local_index: i64,
    pub seq: i64,
    pub device_id: DeviceId,
    pub record_id: RecordId,
    pub kind: String,
    pub actor_user_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    pub business_date: String,
    pub device_time: String,
    pub patient_id: Option<PatientId>,
    /// The patient's English name, or their Arabic name when they have no English one.
    pub patient_name: Option<String>,
    /// The patient's Arabic name, or their English name when they have no Arabic one.
    pub patient_name_ar: Option<String>,
    /// The record's canonical JSON payload, password hashes masked.
    pub payload: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: i64,
}
