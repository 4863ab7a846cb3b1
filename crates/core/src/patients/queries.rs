//! The only code reading the patients area's tables, for this area and the others (the audit
//! trail's patient filter, the demo).

use super::records::{ConflictOutcome, FieldChange, PatientConflictResolved, PatientUpdated, Sex};
use super::views::{
    ConflictResolution, EditConflict, EditedField, Patient, PatientChange, PatientFile, PatientInput,
    PatientSummary, ResolvedConflict,
};
use crate::ids::{PatientId, UserId};
use crate::text::fold;
use crate::{CoreError, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// SQL for the patient a record (of table alias `r`) concerns: its payload's `patient_id` field,
/// which every payload about a patient carries. Written exactly as in the `records_patient`
/// index (migration V4), so queries by patient use it.
pub const PATIENT_OF_RECORD: &str = "json_extract(CAST(r.payload AS TEXT), '$.patient_id')";

/// Every edit conflict of a patient's file, open and resolved, oldest first.
pub fn conflicts(conn: &Connection, patient_id: &PatientId) -> Result<Vec<EditConflict>> {
    let mut stmt = conn.prepare_cached(
        "SELECT record_id, field, expected, proposed, kept, device_id, by_user_id, at,
            outcome, resolved_by, resolved_at, resolved_record_id
         FROM patient_conflicts WHERE patient_id = ?1 ORDER BY at, record_id, field",
    )?;
    let rows = stmt.query_map([patient_id], |r| {
        let outcome: Option<String> = r.get(8)?;
        let resolution = match outcome {
            None => None,
            Some(outcome) => Some(ConflictResolution {
                outcome: ConflictOutcome::parse(&outcome),
                by_user_id: r.get(9)?,
                at: r.get(10)?,
                record_id: r.get(11)?,
            }),
        };
        Ok(EditConflict {
            record_id: r.get(0)?,
            field: r.get(1)?,
            expected: r.get(2)?,
            proposed: r.get(3)?,
            kept: r.get(4)?,
            device_id: r.get(5)?,
            by_user_id: r.get(6)?,
            at: r.get(7)?,
            resolution,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn open_conflicts(conn: &Connection, patient_id: &PatientId) -> Result<Vec<EditConflict>> {
    let mut all = conflicts(conn, patient_id)?;
    all.retain(|c| c.resolution.is_none());
    Ok(all)
}

/// The file as the records left it: fields, history and open conflicts.
pub(crate) fn file(conn: &Connection, patient_id: &PatientId) -> Result<PatientFile> {
    with_history(conn, get(conn, patient_id)?)
}

pub(crate) fn with_history(conn: &Connection, patient: Patient) -> Result<PatientFile> {
    let (history, earlier_history) = newest_history(conn, &patient.id)?;
    Ok(PatientFile {
        history,
        earlier_history,
        conflicts: open_conflicts(conn, &patient.id)?,
        patient,
    })
}

pub fn get(conn: &Connection, id: &PatientId) -> Result<Patient> {
    conn.prepare_cached(
        "SELECT id, file_number, name_en, name_ar, date_of_birth, sex, phone, national_id, address,
            emergency_contact, allergies, chronic_diseases, current_medications, medical_history,
            registered_by, registered_at, updated_at
         FROM patients WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(Patient {
            id: r.get(0)?,
            file_number: r.get(1)?,
            fields: PatientInput {
                name_en: r.get(2)?,
                name_ar: r.get(3)?,
                date_of_birth: r.get(4)?,
                sex: parse_sex(&r.get::<_, String>(5)?),
                phone: r.get(6)?,
                national_id: r.get(7)?,
                address: r.get(8)?,
                emergency_contact: r.get(9)?,
                allergies: r.get(10)?,
                chronic_diseases: r.get(11)?,
                current_medications: r.get(12)?,
                medical_history: r.get(13)?,
            },
            registered_by: r.get(14)?,
            registered_at: r.get(15)?,
            updated_at: r.get(16)?,
        })
    })
    .optional()?
    .ok_or_else(|| CoreError::not_found("patient"))
}

fn parse_sex(s: &str) -> Sex {
    if s == "male" { Sex::Male } else { Sex::Female }
}

/// How many entries of its history a file shows: the newest. Opening a file is the most
/// frequent action and each opening is an entry, so without a bound opening the file of a
/// patient seen for years would read every earlier opening, at a cost that grows with the
/// clinic's history. The rest stays in the audit trail, which filters by patient.
pub const HISTORY_SHOWN: usize = 100;

/// The file's history, oldest first, read from the records themselves: the newest
/// [`HISTORY_SHOWN`] entries.
pub fn history(conn: &Connection, patient_id: &PatientId) -> Result<Vec<PatientChange>> {
    Ok(newest_history(conn, patient_id)?.0)
}

/// A file's newest history entries, newest first: what each shows is in the `records_patient`
/// index itself (migration V15), so they are read from a few adjacent index pages, not from
/// records scattered over the whole table. A test holds the plan to that index alone.
const NEWEST_HISTORY: &str = "SELECT r.local_index, r.kind, r.device_time, r.actor_user_id
     FROM records r
     WHERE json_extract(CAST(r.payload AS TEXT), '$.patient_id') = ?1 AND r.kind LIKE 'patient.%'
     ORDER BY r.local_index DESC
     LIMIT ?2";

/// The newest [`HISTORY_SHOWN`] entries of the file's history, oldest first, and whether
/// there are earlier ones. Read newest first through `records_patient`, so the cost does not
/// depend on how long the history is; only entries whose payload says more (an edit's
/// changes, a conflict's resolution) read their record.
fn newest_history(conn: &Connection, patient_id: &PatientId) -> Result<(Vec<PatientChange>, bool)> {
    let mut entries: Vec<(i64, PatientChange)> = conn
        .prepare_cached(NEWEST_HISTORY)?
        .query_map(params![patient_id, HISTORY_SHOWN as i64 + 1], |r| {
            Ok((
                r.get(0)?,
                PatientChange {
                    kind: r.get(1)?,
                    at: r.get(2)?,
                    by_user_id: r.get(3)?,
                    by_name: None,
                    changes: Vec::new(),
                    resolved: None,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let earlier = entries.len() > HISTORY_SHOWN;
    entries.truncate(HISTORY_SHOWN);
    let payload = |local_index: i64| -> Result<Vec<u8>> {
        Ok(conn
            .prepare_cached("SELECT payload FROM records WHERE local_index = ?1")?
            .query_row([local_index], |r| r.get(0))?)
    };
    // Each actor's name once: a file's history has few distinct actors.
    let mut names: std::collections::HashMap<UserId, Option<String>> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for (local_index, mut entry) in entries.into_iter().rev() {
        if let Some(user) = &entry.by_user_id {
            if !names.contains_key(user) {
                let name: Option<String> = conn
                    .prepare_cached("SELECT display_name FROM users WHERE id = ?1")?
                    .query_row([user], |r| r.get(0))
                    .optional()?;
                names.insert(user.clone(), name);
            }
            entry.by_name = names[user].clone();
        }
        match entry.kind.as_str() {
            "patient.updated" => {
                let edit: PatientUpdated = serde_json::from_slice(&payload(local_index)?)?;
                entry.changes = edit.changes.into_iter().map(EditedField::from).collect();
            }
            "patient.conflict_resolved" => {
                let resolved: PatientConflictResolved = serde_json::from_slice(&payload(local_index)?)?;
                entry.resolved = Some(ResolvedConflict::from(resolved));
            }
            _ => {}
        }
        out.push(entry);
    }
    Ok((out, earlier))
}

// The signed payloads as the history shows them.

impl From<FieldChange> for EditedField {
    fn from(c: FieldChange) -> Self {
        EditedField {
            field: c.field,
            from: c.from,
            to: c.to,
        }
    }
}

impl From<PatientConflictResolved> for ResolvedConflict {
    fn from(r: PatientConflictResolved) -> Self {
        ResolvedConflict {
            patient_id: r.patient_id,
            record_id: r.record_id,
            field: r.field,
            outcome: r.outcome,
        }
    }
}

/// Combining marks (Latin accents; Arabic marks are already folded away) belong to their word.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// Type-ahead search by name (either script), phone digits or file number. Every word typed
/// must match the start of a word of the patient's (prefix match, AND).
pub fn search(conn: &Connection, query: &str, limit: u32) -> Result<Vec<PatientSummary>> {
    let folded = fold(query);
    // Split where the FTS tokenizer splits (anything but letters, digits and marks), so each
    // term is one token and a query never turns into a phrase.
    let terms: Vec<String> = folded
        .split(|c: char| !(c.is_alphanumeric() || is_mark(c)))
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{t}\"*"))
        .collect();
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.file_number, p.name_en, p.name_ar, p.phone, p.date_of_birth, p.sex
         FROM patients_fts f JOIN patients p ON p.search_key = f.rowid
         WHERE patients_fts MATCH ?1
         LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![terms.join(" "), limit.clamp(1, 100)], |r| {
        Ok(PatientSummary {
            id: r.get(0)?,
            file_number: r.get(1)?,
            name_en: r.get(2)?,
            name_ar: r.get(3)?,
            phone: r.get(4)?,
            date_of_birth: r.get(5)?,
            sex: parse_sex(&r.get::<_, String>(6)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::{NEWEST_HISTORY, PATIENT_OF_RECORD};

    /// Opening a file reads its history from the patient index alone: a query that also
    /// needs a column of `records` would read one scattered record page per entry again.
    #[test]
    fn the_history_is_read_from_the_patient_index_alone() {
        assert!(
            NEWEST_HISTORY.contains(PATIENT_OF_RECORD),
            "the index's expression"
        );
        let conn = crate::store::open_in_memory().unwrap();
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {NEWEST_HISTORY}"))
            .unwrap()
            .query_map(rusqlite::params!["x", 101], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter()
                .any(|step| step.contains("USING COVERING INDEX records_patient")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "no sort: {plan:?}"
        );
    }
}
