//! The only code writing the patients area's tables (`patients`, its search index
//! `patients_fts`, `patient_conflicts`), called from the records' [`crate::kind::Kind::apply`].

use super::queries::PATIENT_OF_RECORD;
use super::records::{FIELDS, PatientConflictResolved, PatientRegistered, PatientUpdated};
use crate::ids::PatientId;
use crate::kind::{Applied, Finder, SubjectKind};
use crate::text::{fold, phone_digits};
use crate::{CoreError, Result};
use rusqlite::{OptionalExtension, Transaction, params};

pub(super) fn registered(tx: &Transaction<'_>, p: &PatientRegistered, at: &Applied<'_>) -> Result<()> {
    let f = &p.fields;
    let by = at.record.body.actor_user_id.clone().unwrap_or_default();
    tx.prepare_cached(
        "INSERT INTO patients (id, file_number, name_en, name_ar, date_of_birth, sex, phone,
            national_id, address, emergency_contact, allergies, chronic_diseases,
            current_medications, medical_history, registered_by, registered_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
    )?
    .execute(params![
        p.patient_id,
        p.file_number,
        f.name_en,
        f.name_ar,
        f.date_of_birth,
        f.sex.as_str(),
        f.phone,
        f.national_id,
        f.address,
        f.emergency_contact,
        f.allergies,
        f.chronic_diseases,
        f.current_medications,
        f.medical_history,
        by,
        at.time(),
    ])?;
    // A new patient has no search row yet.
    index_for_search(tx, &p.patient_id, false)
}

/// Each changed field is applied only if it still holds the value the editor saw (`from`).
/// Otherwise another desk changed it first (earlier in the branch server's log): the later
/// edit is kept as a conflict on the file for staff to review, never applied over it.
pub(super) fn updated(tx: &Transaction<'_>, u: &PatientUpdated, at: &Applied<'_>) -> Result<()> {
    let mut changed = false;
    for change in &u.changes {
        let column = FIELDS
            .iter()
            .find(|f| **f == change.field)
            .ok_or_else(|| CoreError::internal(format!("unknown patient field {}", change.field)))?;
        let current: Option<String> = tx
            .prepare_cached(&format!(
                "SELECT coalesce({column}, '') FROM patients WHERE id = ?1"
            ))?
            .query_row([&u.patient_id], |r| r.get(0))
            .optional()?;
        let Some(current) = current else {
            // Its registration was refused by the branch server: nothing to edit.
            return Ok(());
        };
        if current != change.from {
            let b = &at.record.body;
            tx.prepare_cached(
                "INSERT INTO patient_conflicts (record_id, field, patient_id, expected, proposed,
                        kept, device_id, by_user_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                b.id,
                change.field,
                u.patient_id,
                change.from,
                change.to,
                current,
                b.device_id,
                b.actor_user_id,
                at.time()
            ])?;
            continue;
        }
        let value: Option<&str> = match (*column, change.to.as_str()) {
            ("national_id", "") => None,
            (_, v) => Some(v),
        };
        tx.execute(
            &format!("UPDATE patients SET {column} = ?2, updated_at = ?3 WHERE id = ?1"),
            params![u.patient_id, value, at.time()],
        )?;
        changed = true;
    }
    if changed {
        index_for_search(tx, &u.patient_id, true)?;
    }
    Ok(())
}

/// Marks the conflict resolved; the row stays (nothing is lost). Conflicts follow the
/// server's log order, and a resolution always comes after the edit it resolves in that
/// order (its writer held the conflict), so when it is applied the conflict row exists here
/// if it exists anywhere. It may not: the writer saw the conflict among its own pending
/// records, and by the time they reached the log a third desk's edit had made the losing
/// edit apply after all. Then, and when the conflict is already resolved (two desks
/// resolving it offline: the first to reach the log wins), this is a no-op, never a
/// failure, so the server and every desk accept and replay it alike.
pub(super) fn conflict_resolved(
    tx: &Transaction<'_>,
    r: &PatientConflictResolved,
    at: &Applied<'_>,
) -> Result<()> {
    let b = &at.record.body;
    tx.prepare_cached(
        "UPDATE patient_conflicts
             SET outcome = ?4, resolved_by = ?5, resolved_at = ?6, resolved_record_id = ?7
             WHERE record_id = ?1 AND field = ?2 AND patient_id = ?3 AND outcome IS NULL",
    )?
    .execute(params![
        r.record_id,
        r.field,
        r.patient_id,
        r.outcome.as_str(),
        b.actor_user_id,
        at.time(),
        b.id,
    ])?;
    Ok(())
}

/// (Re)writes a patient's search row. `replace`: an edit, so the old row goes first.
fn index_for_search(tx: &Transaction<'_>, patient_id: &PatientId, replace: bool) -> Result<()> {
    let (name_en, name_ar, phone, file_number): (String, String, String, String) = tx
        .prepare_cached("SELECT name_en, name_ar, phone, file_number FROM patients WHERE id = ?1")?
        .query_row([patient_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let file_key = search_file_key(&file_number);
    if replace {
        delete_search_row(tx, patient_id, &file_key)?;
    }
    tx.prepare_cached(
        "INSERT INTO patients_fts (patient_id, names, phone, file_number) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        patient_id,
        fold(&format!("{name_en} {name_ar}")),
        phone_search_terms(&phone),
        file_key
    ])?;
    Ok(())
}

/// The file number as the search index holds it.
fn search_file_key(file_number: &str) -> String {
    file_number.to_lowercase().replace('-', " ")
}

/// Deletes a patient's search row. `patient_id` is UNINDEXED, so filtering on it alone scans
/// the whole FTS table (one scan per edit: O(n)). Find the row through its file number, which
/// is indexed, unique and never changes, then check the id.
fn delete_search_row(tx: &Transaction<'_>, patient_id: &str, file_key: &str) -> Result<()> {
    let phrase = format!("file_number : \"{}\"", file_key.replace('"', "\"\""));
    let rowids: Vec<i64> = tx
        .prepare_cached("SELECT rowid FROM patients_fts WHERE patients_fts MATCH ?1 AND patient_id = ?2")?
        .query_map(params![phrase, patient_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for rowid in rowids {
        tx.prepare_cached("DELETE FROM patients_fts WHERE rowid = ?1")?
            .execute([rowid])?;
    }
    Ok(())
}

/// The patients area's subject (`patient:<id>`), for [`crate::replay`].
pub const SUBJECTS: &[SubjectKind] = &[SubjectKind {
    prefix: "patient",
    finder: Finder::Payload(PATIENT_OF_RECORD),
    tables: PATIENT_TABLES,
    delete: delete_patient_projection,
}];

/// Tables holding rows of one patient (subject `patient:<id>`), which
/// `delete_patient_projection` empties.
pub const PATIENT_TABLES: &[&str] = &["patients", "patients_fts", "patient_conflicts"];

/// Deletes one patient's rows from the projection tables (its file, search row and
/// conflicts), before [`crate::replay`] re-applies that patient's records. Takes the subject's
/// key as text, like every entry of the replay's table of subjects.
pub(crate) fn delete_patient_projection(tx: &Transaction<'_>, patient_id: &str) -> Result<()> {
    let file_number: Option<String> = tx
        .prepare_cached("SELECT file_number FROM patients WHERE id = ?1")?
        .query_row([patient_id], |r| r.get(0))
        .optional()?;
    if let Some(file_number) = file_number {
        delete_search_row(tx, patient_id, &search_file_key(&file_number))?;
    }
    tx.prepare_cached("DELETE FROM patient_conflicts WHERE patient_id = ?1")?
        .execute([patient_id])?;
    tx.prepare_cached("DELETE FROM patients WHERE id = ?1")?
        .execute([patient_id])?;
    Ok(())
}

/// The phone number as staff may type it: in full (with the country code), and as the local
/// number — the last nine digits, with and without the trunk 0 — so "0791234567",
/// "791234567" and "+962791234567" all find "+962 79 123 4567".
fn phone_search_terms(phone: &str) -> String {
    let digits = phone_digits(phone);
    if digits.len() <= 9 {
        return digits;
    }
    let local = &digits[digits.len() - 9..];
    format!("{digits} {local} 0{local}")
}

#[cfg(test)]
mod tests {
    use super::phone_search_terms;

    #[test]
    fn phones_are_searchable_in_full_and_local_form() {
        assert_eq!(
            phone_search_terms("+962 79 123 4567"),
            "962791234567 791234567 0791234567"
        );
        assert_eq!(
            phone_search_terms("0791234567"),
            "0791234567 791234567 0791234567"
        );
        assert_eq!(phone_search_terms("1234567"), "1234567");
    }
}
