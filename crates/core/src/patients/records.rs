//! The patients area's signed payloads. Their JSON is on signed records forever (golden
//! vectors in `record.rs`).

use super::projection;
use crate::Result;
use crate::ids::{PatientId, RecordId};
use crate::kind::{Applied, Kind};
use crate::permissions::Action;
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

/// A plain value, shared by the payloads and the IPC types (its names are on signed records).
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

/// A patient's fields as a registration signs them (validated: trimmed, the date and national
/// id normalised). The UI's `PatientInput` maps to it in `rules::validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientFields {
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

/// One field of an edit: the value the editor saw and the one they entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// What staff decided about an edit conflict. A plain value, shared by the payload and the
/// IPC types.
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

fn patient(patient_id: &PatientId) -> Vec<String> {
    vec![format!("patient:{patient_id}")]
}

/// The tables a registration or an edit writes.
const PATIENT_TABLES: &[&str] = &["patients", "patients_fts"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRegistered {
    pub patient_id: PatientId,
    pub file_number: String,
    pub fields: PatientFields,
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
    pub patient_id: PatientId,
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
    pub patient_id: PatientId,
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
pub struct PatientConflictResolved {
    pub patient_id: PatientId,
    /// The `patient.updated` record whose edit of `field` was kept as a conflict.
    pub record_id: RecordId,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kind::assert_payload_json;
    use crate::patients::{PatientInput, validate};

    /// The literals were captured from the payloads before the payload types were separated
    /// from the IPC types: a renamed field or a changed value format fails here.
    #[test]
    fn patient_payloads_keep_their_json() {
        let input = PatientInput {
            name_en: "  Sara Haddad ".into(),
            name_ar: "سارة حداد".into(),
            date_of_birth: "1990-04-05".into(),
            sex: Sex::Female,
            phone: "+962 79 123 4567".into(),
            national_id: Some("ab12345".into()),
            address: "Amman".into(),
            emergency_contact: "Omar 0790000000".into(),
            allergies: "penicillin".into(),
            chronic_diseases: String::new(),
            current_medications: String::new(),
            medical_history: "none".into(),
        };
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let registered = PatientRegistered {
            patient_id: "0195f3a0-0000-7000-8000-000000000001".into(),
            file_number: "A1B2-00001".into(),
            fields: validate(&input, today).unwrap(),
        };
        assert_payload_json(
            &registered,
            r#"{"fields":{"address":"Amman","allergies":"penicillin","chronic_diseases":"","current_medications":"","date_of_birth":"1990-04-05","emergency_contact":"Omar 0790000000","medical_history":"none","name_ar":"سارة حداد","name_en":"Sara Haddad","national_id":"AB12345","phone":"+962 79 123 4567","sex":"female"},"file_number":"A1B2-00001","patient_id":"0195f3a0-0000-7000-8000-000000000001"}"#,
        );
        let no_national_id = PatientRegistered {
            fields: validate(
                &PatientInput {
                    national_id: None,
                    sex: Sex::Male,
                    ..input
                },
                today,
            )
            .unwrap(),
            ..registered
        };
        assert_payload_json(
            &no_national_id,
            r#"{"fields":{"address":"Amman","allergies":"penicillin","chronic_diseases":"","current_medications":"","date_of_birth":"1990-04-05","emergency_contact":"Omar 0790000000","medical_history":"none","name_ar":"سارة حداد","name_en":"Sara Haddad","national_id":null,"phone":"+962 79 123 4567","sex":"male"},"file_number":"A1B2-00001","patient_id":"0195f3a0-0000-7000-8000-000000000001"}"#,
        );
        assert_payload_json(
            &PatientUpdated {
                patient_id: "0195f3a0-0000-7000-8000-000000000001".into(),
                changes: vec![FieldChange {
                    field: "phone".into(),
                    from: "+962 79 123 4567".into(),
                    to: "0791111111".into(),
                }],
            },
            r#"{"changes":[{"field":"phone","from":"+962 79 123 4567","to":"0791111111"}],"patient_id":"0195f3a0-0000-7000-8000-000000000001"}"#,
        );
        assert_payload_json(
            &PatientViewed {
                patient_id: "0195f3a0-0000-7000-8000-000000000001".into(),
            },
            r#"{"patient_id":"0195f3a0-0000-7000-8000-000000000001"}"#,
        );
        assert_payload_json(
            &PatientConflictResolved {
                patient_id: "0195f3a0-0000-7000-8000-000000000001".into(),
                record_id: "0195f3a0-0000-7000-8000-0000000000ff".into(),
                field: "phone".into(),
                outcome: ConflictOutcome::Applied,
            },
            r#"{"field":"phone","outcome":"applied","patient_id":"0195f3a0-0000-7000-8000-000000000001","record_id":"0195f3a0-0000-7000-8000-0000000000ff"}"#,
        );
    }
}
