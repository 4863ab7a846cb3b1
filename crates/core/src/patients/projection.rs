//! The only code writing the patients area's tables (`patients`, its search index
//! `patients_fts`, `patient_conflicts`), called from the records' [`crate::kind::Kind::apply`].

use super::queries::PATIENT_OF_RECORD;
use super::records::{FIELDS, PatientConflictResolved, PatientRegistered, PatientUpdated};
use crate::kind::{Applied, Finder, SubjectKind, TableView, plain_rows};
use crate::text::{fold, phone_digits};
use crate::{CoreError, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

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
    // The row just inserted: its rowid is its `search_key`.
    let row = SearchRow::of(
        tx.last_insert_rowid(),
        &f.name_en,
        &f.name_ar,
        &f.phone,
        &p.file_number,
    );
    row.insert(tx)
}

/// Each changed field is applied only if it still holds the value the editor saw (`from`).
/// Otherwise another desk changed it first (earlier in the branch server's log): the later
/// edit is kept as a conflict on the file for staff to review, never applied over it.
pub(super) fn updated(tx: &Transaction<'_>, u: &PatientUpdated, at: &Applied<'_>) -> Result<()> {
    let mut changed = false;
    // What the search index holds for the file before this edit, to take out if it changes.
    let indexed = SearchRow::read(tx, &u.patient_id)?;
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
    if let (true, Some(indexed)) = (changed, indexed) {
        let now = SearchRow::read(tx, &u.patient_id)?
            .ok_or_else(|| CoreError::internal(format!("patient {} vanished while edited", u.patient_id)))?;
        // Edits of other fields (history, allergies, …) leave the index alone.
        if now != indexed {
            indexed.delete(tx)?;
            now.insert(tx)?;
        }
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

/// A patient's row of the search index (`patients_fts`, contentless: it keeps no copy of these
/// values, only their terms), keyed by the patient's `search_key`. A row is taken out by naming
/// the values it was indexed with, so both directions go through [`SearchRow::of`].
#[derive(Debug, PartialEq, Eq)]
struct SearchRow {
    key: i64,
    names: String,
    phone: String,
    file_number: String,
}

impl SearchRow {
    /// The terms a patient is found by: names folded (case, Arabic letter variants), the phone
    /// in its full and local forms, the file number as words.
    fn of(key: i64, name_en: &str, name_ar: &str, phone: &str, file_number: &str) -> Self {
        SearchRow {
            key,
            names: fold(&format!("{name_en} {name_ar}")),
            phone: phone_search_terms(phone),
            file_number: file_number.to_lowercase().replace('-', " "),
        }
    }

    /// The columns of `patients` a row is made of, in the order [`SearchRow::from_patient`] reads.
    const COLUMNS: &'static str = "search_key, name_en, name_ar, phone, file_number";

    fn from_patient(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(SearchRow::of(
            r.get(0)?,
            &r.get::<_, String>(1)?,
            &r.get::<_, String>(2)?,
            &r.get::<_, String>(3)?,
            &r.get::<_, String>(4)?,
        ))
    }

    /// The row the index holds for the patient as the `patients` table has it now.
    fn read(tx: &Connection, patient_id: &str) -> Result<Option<Self>> {
        Ok(tx
            .prepare_cached(&format!("SELECT {} FROM patients WHERE id = ?1", Self::COLUMNS))?
            .query_row([patient_id], Self::from_patient)
            .optional()?)
    }

    fn insert(&self, tx: &Connection) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO patients_fts (rowid, names, phone, file_number) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![self.key, self.names, self.phone, self.file_number])?;
        Ok(())
    }

    /// FTS5's 'delete' command for a contentless table: removes exactly the terms these values
    /// give, which are the terms the row was inserted with.
    fn delete(&self, tx: &Connection) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO patients_fts (patients_fts, rowid, names, phone, file_number)
             VALUES ('delete', ?1, ?2, ?3, ?4)",
        )?
        .execute(params![self.key, self.names, self.phone, self.file_number])?;
        Ok(())
    }
}

/// The version of the terms `SearchRow::of` derives (folding, phone forms, file number
/// words). A contentless row is taken out by naming its terms, so rows indexed under another
/// version could not be: [`ensure_search_terms`] re-indexes every patient when the database
/// was indexed under another one (or before V14 carried its rows over). Bump it with any change
/// to those functions.
pub const SEARCH_TERMS_VERSION: &str = "1";
const SEARCH_TERMS_KEY: &str = "search_terms_version";

/// Re-indexes every patient with today's terms, once per [`SEARCH_TERMS_VERSION`] (at open,
/// after the migrations, listed in `registry::AFTER_MIGRATIONS`; a later open does nothing). Atomic: the index and the version it was
/// built under change together.
pub fn ensure_search_terms(conn: &mut Connection) -> Result<()> {
    if crate::store::meta_get(conn, SEARCH_TERMS_KEY)?.as_deref() == Some(SEARCH_TERMS_VERSION) {
        return Ok(());
    }
    let tx = conn.transaction()?;
    tx.execute_batch("INSERT INTO patients_fts (patients_fts) VALUES ('delete-all')")?;
    let rows: Vec<SearchRow> = tx
        .prepare(&format!("SELECT {} FROM patients", SearchRow::COLUMNS))?
        .query_map([], SearchRow::from_patient)?
        .collect::<rusqlite::Result<_>>()?;
    for row in &rows {
        row.insert(&tx)?;
    }
    crate::store::meta_set(&tx, SEARCH_TERMS_KEY, SEARCH_TERMS_VERSION)?;
    tx.commit()?;
    if !rows.is_empty() {
        tracing::info!(
            patients = rows.len(),
            version = SEARCH_TERMS_VERSION,
            "search index rebuilt with today's terms"
        );
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

/// How verification reads the patients' table (without `search_key`, which a rebuild numbers
/// in its own order) and the search index (contentless: its terms, read through an `fts5vocab`
/// table, under each term's patient id).
pub const TABLE_VIEWS: &[TableView] = &[
    TableView {
        table: "patients",
        rows: |conn| plain_rows(conn, "patients", &["search_key"]),
        clear: |conn| Ok(conn.execute_batch("DELETE FROM patients")?),
    },
    TableView {
        table: "patients_fts",
        rows: search_terms,
        clear: |conn| Ok(conn.execute_batch("INSERT INTO patients_fts (patients_fts) VALUES ('delete-all')")?),
    },
];

/// Every term of the search index: patient id, column, term and position.
fn search_terms(conn: &Connection) -> Result<Vec<String>> {
    // A temporary table (in the connection's own temp schema, so a read-only connection can
    // make it too) that reads the index; it stores nothing.
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.patients_fts_terms USING fts5vocab(main, patients_fts, instance)",
    )?;
    // A database read without migrating (read-only verification of a data dir an earlier
    // version wrote) keeps each row's patient id in the index's own content table (before V14).
    let keyed: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('patients') WHERE name = 'search_key')",
        )?
        .query_row([], |r| r.get(0))?;
    let sql = if keyed {
        "SELECT p.id, t.col, t.term, t.offset FROM temp.patients_fts_terms t
         LEFT JOIN patients p ON p.search_key = t.doc"
    } else {
        "SELECT f.patient_id, t.col, t.term, t.offset FROM temp.patients_fts_terms t
         LEFT JOIN patients_fts f ON f.rowid = t.doc"
    };
    let rows = conn
        .prepare_cached(sql)?
        .query_map([], |r| {
            Ok(format!(
                "{:?}|{}|{}|{}",
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Tables holding rows of one patient (subject `patient:<id>`), which
/// `delete_patient_projection` empties.
pub const PATIENT_TABLES: &[&str] = &["patients", "patients_fts", "patient_conflicts"];

/// Deletes one patient's rows from the projection tables (its file, search row and
/// conflicts), before [`crate::replay`] re-applies that patient's records. Takes the subject's
/// key as text, like every entry of the replay's table of subjects.
pub(crate) fn delete_patient_projection(tx: &Transaction<'_>, patient_id: &str) -> Result<()> {
    if let Some(indexed) = SearchRow::read(tx, patient_id)? {
        indexed.delete(tx)?;
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
