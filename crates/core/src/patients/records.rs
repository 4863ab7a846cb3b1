//! The patients area's signed payloads. Their JSON is on signed records forever (golden
//! vectors in `record.rs`).

use super::projection;
use crate::Result;
use crate::kind::{Applied, Kind};
use crate::permissions::Action;
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// What reception types in (and what an edit sends back whole).
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
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// What staff decided about an edit conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ConflictOutcome {
    /// The losing edit's value was applied after all (by a `patient.updated` of its own).
    Applied,
    /// The file's current value was kept.
    Dismissed,
}

impl ConflictOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictOutcome::Applied => "applied",
            ConflictOutcome::Dismissed => "dismissed",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        if s == "applied" {
            ConflictOutcome::Applied
        } else {
            ConflictOutcome::Dismissed
        }
    }
}

/// Editable fields, in form order; also the whitelist of columns an update may touch.
pub(crate) const FIELDS: [&str; 12] = [
    "name_en",
    "name_ar",
    "date_of_birth",
    "sex",
    "phone",
    "national_id",
    "address",
    "emergency_contact",
    "allergies",
    "chronic_diseases",
    "current_medications",
    "medical_history",
];

fn patient(patient_id: &str) -> Vec<String> {
    vec![format!("patient:{patient_id}")]
}

/// The tables a registration or an edit writes.
const PATIENT_TABLES: &[&str] = &["patients", "patients_fts"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRegistered {
    pub patient_id: String,
    pub file_number: String,
    pub fields: PatientInput,
}

impl Kind for PatientRegistered {
    const KIND: &'static str = "patient.registered";
    const ACTION: Option<Action> = Some(Action::PatientRegister);
    const TABLES: &'static [&'static str] = PATIENT_TABLES;
    fn subjects(&self) -> Vec<String> {
        patient(&self.patient_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::registered(tx, self, at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientUpdated {
    pub patient_id: String,
    /// Only the fields that changed, with their old and new values.
    pub changes: Vec<FieldChange>,
}

impl Kind for PatientUpdated {
    const KIND: &'static str = "patient.updated";
    const ACTION: Option<Action> = Some(Action::PatientEdit);
    const TABLES: &'static [&'static str] = &["patients", "patients_fts", "patient_conflicts"];
    fn subjects(&self) -> Vec<String> {
        patient(&self.patient_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::updated(tx, self, at)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientViewed {
    pub patient_id: String,
}

impl Kind for PatientViewed {
    const KIND: &'static str = "patient.viewed";
    const ACTION: Option<Action> = Some(Action::PatientView);
    const TABLES: &'static [&'static str] = &[];
    fn apply(&self, _: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        Ok(())
    }
}

/// Staff acted on an edit conflict: applied the losing edit's value after all (the same
/// transaction appends a normal `patient.updated` just before this record) or kept the current
/// value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientConflictResolved {
    pub patient_id: String,
    /// The `patient.updated` record whose edit of `field` was kept as a conflict.
    pub record_id: String,
    pub field: String,
    pub outcome: ConflictOutcome,
}

impl Kind for PatientConflictResolved {
    const KIND: &'static str = "patient.conflict_resolved";
    const ACTION: Option<Action> = Some(Action::PatientEdit);
    const TABLES: &'static [&'static str] = &["patient_conflicts"];
    fn subjects(&self) -> Vec<String> {
        patient(&self.patient_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::conflict_resolved(tx, self, at)
    }
}
