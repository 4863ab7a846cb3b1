//! What the patients area's commands give across the IPC boundary (never signed: free to
//! change with the UI).

use super::records::{ConflictOutcome, Sex};
use crate::ids::{DeviceId, PatientId, RecordId, UserId};
use serde::{Deserialize, Serialize};

/// What reception types in (and what an edit sends back whole). Validated into the signed
/// [`super::records::PatientFields`] by [`super::rules::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientInput {
    pub name_en: String,
    pub name_ar: String,
    /// YYYY-MM-DD
    pub date_of_birth: String,
    pub sex: Sex,
    pub phone: String,
    pub national_id: Option<String>,
    pub address: String,
    pub emergency_contact: String,
    pub allergies: String,
    pub chronic_diseases: String,
    pub current_medications: String,
    pub medical_history: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Patient {
    pub id: PatientId,
    pub file_number: String,
    #[serde(flatten)]
    pub fields: PatientInput,
    pub registered_by: UserId,
    pub registered_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientSummary {
    pub id: PatientId,
    pub file_number: String,
    pub name_en: String,
    pub name_ar: String,
    pub phone: String,
    pub date_of_birth: String,
    pub sex: Sex,
}

/// One entry of a file's history, from the records: registration, each edit, each opening,
/// each resolved edit conflict.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientChange {
    pub at: String,
    pub by_user_id: Option<UserId>,
    pub by_name: Option<String>,
    pub kind: String,
    pub changes: Vec<EditedField>,
    /// For `patient.conflict_resolved`: which conflict, and what became of it.
    pub resolved: Option<ResolvedConflict>,
}

/// One field an edit changed, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EditedField {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// A resolved edit conflict, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResolvedConflict {
    pub patient_id: PatientId,
    /// The `patient.updated` record whose edit of `field` was kept as a conflict.
    pub record_id: RecordId,
    pub field: String,
    pub outcome: ConflictOutcome,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientFile {
    pub patient: Patient,
    /// The newest entries, oldest first ([`super::queries::HISTORY_SHOWN`] at most).
    pub history: Vec<PatientChange>,
    /// Whether the file has entries older than `history` (they are in the audit trail).
    pub earlier_history: bool,
    /// Edits that lost to a concurrent edit of the same field made at another desk, which
    /// reached the branch server first, and that nobody has resolved yet: kept for staff to
    /// review ([`super::rules::resolve_conflict`]). Resolved ones stay in the table and in the history.
    pub conflicts: Vec<EditConflict>,
}

/// An edit of one field that was not applied because the field had changed meanwhile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EditConflict {
    pub record_id: RecordId,
    pub field: String,
    /// The value the editor saw.
    pub expected: String,
    /// The value they entered (not applied).
    pub proposed: String,
    /// The value the file kept (from the edit that came first).
    pub kept: String,
    pub device_id: DeviceId,
    pub by_user_id: Option<UserId>,
    pub at: String,
    /// `None` while open; once resolved, who resolved it, when and how.
    pub resolution: Option<ConflictResolution>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConflictResolution {
    pub outcome: ConflictOutcome,
    pub by_user_id: Option<UserId>,
    pub at: String,
    /// The `patient.conflict_resolved` record.
    pub record_id: RecordId,
}
