//! Patients: registration, edits (each a record of who changed what), the audited opening of a
//! file, and type-ahead search (SQLite FTS5).
//!
//! File numbers: `<station>-<n>`, where `station` is the first four hex digits of the
//! registering device's id (upper case) and `n` that device's own count of registrations. Two
//! desks registering offline at the same moment draw from different stations, so numbers stay
//! unique in the branch without asking anyone; see ARCHITECTURE.md.

use crate::events::{Applied, PATIENT_OF_RECORD, Project};
use crate::ledger::{Actor, Ledger};
use crate::text::{LINE_MAX, NAME_MAX, NOTES_MAX, PHONE_MAX, bounded, fold, phone_digits};
use crate::{CoreError, ErrorCode, Result};
use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    fn as_str(self) -> &'static str {
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
pub struct Patient {
    pub id: String,
    pub file_number: String,
    #[serde(flatten)]
    pub fields: PatientInput,
    pub registered_by: String,
    pub registered_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientSummary {
    pub id: String,
    pub file_number: String,
    pub name_en: String,
    pub name_ar: String,
    pub phone: String,
    pub date_of_birth: String,
    pub sex: Sex,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// One entry of a file's history, from the records: registration, each edit, each opening,
/// each resolved edit conflict.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientChange {
    pub at: String,
    pub by_user_id: Option<String>,
    pub by_name: Option<String>,
    pub kind: String,
    pub changes: Vec<FieldChange>,
    /// For `patient.conflict_resolved`: which conflict, and what became of it.
    pub resolved: Option<PatientConflictResolved>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatientFile {
    pub patient: Patient,
    pub history: Vec<PatientChange>,
    /// Edits that lost to a concurrent edit of the same field made at another desk, which
    /// reached the branch server first, and that nobody has resolved yet: kept for staff to
    /// review ([`resolve_conflict`]). Resolved ones stay in the table and in the history.
    pub conflicts: Vec<EditConflict>,
}

/// An edit of one field that was not applied because the field had changed meanwhile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EditConflict {
    pub record_id: String,
    pub field: String,
    /// The value the editor saw.
    pub expected: String,
    /// The value they entered (not applied).
    pub proposed: String,
    /// The value the file kept (from the edit that came first).
    pub kept: String,
    pub device_id: String,
    pub by_user_id: Option<String>,
    pub at: String,
    /// `None` while open; once resolved, who resolved it, when and how.
    pub resolution: Option<ConflictResolution>,
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
    fn as_str(self) -> &'static str {
        match self {
            ConflictOutcome::Applied => "applied",
            ConflictOutcome::Dismissed => "dismissed",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "applied" {
            ConflictOutcome::Applied
        } else {
            ConflictOutcome::Dismissed
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConflictResolution {
    pub outcome: ConflictOutcome,
    pub by_user_id: Option<String>,
    pub at: String,
    /// The `patient.conflict_resolved` record.
    pub record_id: String,
}

/// Every edit conflict of a patient's file, open and resolved, oldest first.
pub fn conflicts(conn: &Connection, patient_id: &str) -> Result<Vec<EditConflict>> {
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

fn open_conflicts(conn: &Connection, patient_id: &str) -> Result<Vec<EditConflict>> {
    let mut all = conflicts(conn, patient_id)?;
    all.retain(|c| c.resolution.is_none());
    Ok(all)
}

// ---- records ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRegistered {
    pub patient_id: String,
    pub file_number: String,
    pub fields: PatientInput,
}

impl Project for PatientRegistered {
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        let f = &self.fields;
        let by = at.record.body.actor_user_id.clone().unwrap_or_default();
        tx.prepare_cached(
            "INSERT INTO patients (id, file_number, name_en, name_ar, date_of_birth, sex, phone,
                national_id, address, emergency_contact, allergies, chronic_diseases,
                current_medications, medical_history, registered_by, registered_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
        )?
        .execute(params![
            self.patient_id,
            self.file_number,
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
        index_for_search(tx, &self.patient_id, false)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientUpdated {
    pub patient_id: String,
    /// Only the fields that changed, with their old and new values.
    pub changes: Vec<FieldChange>,
}

impl Project for PatientUpdated {
    /// Each changed field is applied only if it still holds the value the editor saw (`from`).
    /// Otherwise another desk changed it first (earlier in the branch server's log): the later
    /// edit is kept as a conflict on the file for staff to review, never applied over it.
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        let mut changed = false;
        for change in &self.changes {
            let column = FIELDS
                .iter()
                .find(|f| **f == change.field)
                .ok_or_else(|| CoreError::internal(format!("unknown patient field {}", change.field)))?;
            let current: Option<String> = tx
                .prepare_cached(&format!(
                    "SELECT coalesce({column}, '') FROM patients WHERE id = ?1"
                ))?
                .query_row([&self.patient_id], |r| r.get(0))
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
                    self.patient_id,
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
                params![self.patient_id, value, at.time()],
            )?;
            changed = true;
        }
        if changed {
            index_for_search(tx, &self.patient_id, true)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientViewed {
    pub patient_id: String,
}

impl Project for PatientViewed {
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

impl Project for PatientConflictResolved {
    /// Marks the conflict resolved; the row stays (nothing is lost). Conflicts follow the
    /// server's log order, and a resolution always comes after the edit it resolves in that
    /// order (its writer held the conflict), so when it is applied the conflict row exists here
    /// if it exists anywhere. It may not: the writer saw the conflict among its own pending
    /// records, and by the time they reached the log a third desk's edit had made the losing
    /// edit apply after all. Then, and when the conflict is already resolved (two desks
    /// resolving it offline: the first to reach the log wins), this is a no-op, never a
    /// failure, so the server and every desk accept and replay it alike.
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        let b = &at.record.body;
        tx.prepare_cached(
            "UPDATE patient_conflicts
             SET outcome = ?4, resolved_by = ?5, resolved_at = ?6, resolved_record_id = ?7
             WHERE record_id = ?1 AND field = ?2 AND patient_id = ?3 AND outcome IS NULL",
        )?
        .execute(params![
            self.record_id,
            self.field,
            self.patient_id,
            self.outcome.as_str(),
            b.actor_user_id,
            at.time(),
            b.id,
        ])?;
        Ok(())
    }
}

/// Editable fields, in form order; also the whitelist of columns an update may touch.
const FIELDS: [&str; 12] = [
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

fn field_values(p: &PatientInput) -> [String; 12] {
    [
        p.name_en.clone(),
        p.name_ar.clone(),
        p.date_of_birth.clone(),
        p.sex.as_str().to_owned(),
        p.phone.clone(),
        p.national_id.clone().unwrap_or_default(),
        p.address.clone(),
        p.emergency_contact.clone(),
        p.allergies.clone(),
        p.chronic_diseases.clone(),
        p.current_medications.clone(),
        p.medical_history.clone(),
    ]
}

/// (Re)writes a patient's search row. `replace`: an edit, so the old row goes first.
fn index_for_search(tx: &Transaction<'_>, patient_id: &str, replace: bool) -> Result<()> {
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

/// Tables holding rows of one patient (subject `patient:<id>`), which
/// [`delete_patient_projection`] empties.
pub const PATIENT_TABLES: &[&str] = &["patients", "patients_fts", "patient_conflicts"];

/// Deletes one patient's rows from the projection tables (its file, search row and
/// conflicts), before [`crate::replay`] re-applies that patient's records.
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

// ---- validation ----

/// Trims and checks every field; the error names the first bad field and a reason key.
pub fn validate(input: &PatientInput, today: NaiveDate) -> Result<PatientInput> {
    let text = bounded;
    let name_en = text("name_en", &input.name_en, NAME_MAX)?;
    let name_ar = text("name_ar", &input.name_ar, NAME_MAX)?;
    if name_en.is_empty() && name_ar.is_empty() {
        return Err(CoreError::invalid("name_en", "name_required"));
    }
    let dob = NaiveDate::parse_from_str(input.date_of_birth.trim(), "%Y-%m-%d")
        .map_err(|_| CoreError::invalid("date_of_birth", "invalid_date"))?;
    if dob > today {
        return Err(CoreError::invalid("date_of_birth", "date_in_future"));
    }
    if dob < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
        return Err(CoreError::invalid("date_of_birth", "date_too_old"));
    }
    let phone = bounded("phone", &input.phone, PHONE_MAX)?;
    let digits = phone_digits(&phone);
    let phone_chars_ok = phone
        .chars()
        .enumerate()
        .all(|(i, c)| (c == '+' && i == 0) || " -()".contains(c) || phone_digits(&c.to_string()).len() == 1);
    if !phone_chars_ok || !(7..=15).contains(&digits.len()) {
        return Err(CoreError::invalid("phone", "phone_format"));
    }
    let national_id = match input.national_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) if (5..=20).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some(id.to_uppercase())
        }
        Some(_) => return Err(CoreError::invalid("national_id", "national_id_format")),
    };
    Ok(PatientInput {
        name_en,
        name_ar,
        date_of_birth: dob.format("%Y-%m-%d").to_string(),
        sex: input.sex,
        phone,
        national_id,
        address: text("address", &input.address, LINE_MAX)?,
        emergency_contact: text("emergency_contact", &input.emergency_contact, LINE_MAX)?,
        allergies: text("allergies", &input.allergies, NOTES_MAX)?,
        chronic_diseases: text("chronic_diseases", &input.chronic_diseases, NOTES_MAX)?,
        current_medications: text("current_medications", &input.current_medications, NOTES_MAX)?,
        medical_history: text("medical_history", &input.medical_history, NOTES_MAX)?,
    })
}

// ---- commands ----

fn next_file_number(ledger: &Ledger) -> Result<String> {
    let device_id = &ledger.identity().device_id;
    // Numbers are dealt out in order, so this device's last registration carries its count so
    // far. Reading it walks the kind index back from the end (O(1) on a single device) instead
    // of counting every registration, which made each registration O(n).
    let last: Option<Vec<u8>> = ledger
        .conn()
        .prepare_cached(
            "SELECT payload FROM records INDEXED BY records_kind
             WHERE kind = 'patient.registered' AND device_id = ?1
             ORDER BY local_index DESC LIMIT 1",
        )?
        .query_row([device_id], |r| r.get(0))
        .optional()?;
    let count = match last {
        None => 0,
        Some(payload) => {
            let last: PatientRegistered = serde_json::from_slice(&payload)?;
            last.file_number
                .rsplit_once('-')
                .and_then(|(_, n)| n.parse::<u64>().ok())
                .ok_or_else(|| CoreError::internal(format!("unexpected file number {}", last.file_number)))?
        }
    };
    Ok(format!("{}-{:05}", device_id[..4].to_uppercase(), count + 1))
}

pub fn register(ledger: &mut Ledger, actor: &Actor, input: &PatientInput) -> Result<Patient> {
    let fields = validate(input, ledger.clock().business_date())?;
    let patient_id = uuid::Uuid::now_v7().to_string();
    let event = PatientRegistered {
        patient_id: patient_id.clone(),
        file_number: next_file_number(ledger)?,
        fields,
    };
    ledger.append(actor, event.into())?;
    get(ledger.conn(), &patient_id)
}

/// The edit that turns `current` into `input` (validated): `None` when nothing changes.
fn edit_of(ledger: &Ledger, current: &Patient, input: &PatientInput) -> Result<Option<PatientUpdated>> {
    let new = validate(input, ledger.clock().business_date())?;
    let changes: Vec<FieldChange> = FIELDS
        .iter()
        .zip(field_values(&current.fields).into_iter().zip(field_values(&new)))
        .filter(|(_, (from, to))| from != to)
        .map(|(field, (from, to))| FieldChange {
            field: (*field).to_owned(),
            from,
            to,
        })
        .collect();
    Ok((!changes.is_empty()).then(|| PatientUpdated {
        patient_id: current.id.clone(),
        changes,
    }))
}

pub fn update(ledger: &mut Ledger, actor: &Actor, patient_id: &str, input: &PatientInput) -> Result<Patient> {
    let current = get(ledger.conn(), patient_id)?;
    let Some(edit) = edit_of(ledger, &current, input)? else {
        return Ok(current);
    };
    ledger.append(actor, edit.into())?;
    get(ledger.conn(), patient_id)
}

/// `input` with one field (named as in [`FIELDS`]) set from its text form (the inverse of
/// [`field_values`]).
fn with_field(input: &PatientInput, field: &str, value: &str) -> Result<PatientInput> {
    let mut p = input.clone();
    let v = value.to_owned();
    match field {
        "name_en" => p.name_en = v,
        "name_ar" => p.name_ar = v,
        "date_of_birth" => p.date_of_birth = v,
        "sex" => {
            p.sex = match value {
                "male" => Sex::Male,
                "female" => Sex::Female,
                _ => return Err(CoreError::invalid("sex", "invalid_sex")),
            }
        }
        "phone" => p.phone = v,
        "national_id" => p.national_id = (!v.is_empty()).then_some(v),
        "address" => p.address = v,
        "emergency_contact" => p.emergency_contact = v,
        "allergies" => p.allergies = v,
        "chronic_diseases" => p.chronic_diseases = v,
        "current_medications" => p.current_medications = v,
        "medical_history" => p.medical_history = v,
        other => return Err(CoreError::internal(format!("unknown patient field {other}"))),
    }
    Ok(p)
}

/// Acts on an open edit conflict of the file. `apply`: the losing edit's value replaces the
/// current one, by a normal `patient.updated` (from the current value, so it too yields to an
/// edit that reaches the server first) appended atomically with the `patient.conflict_resolved`
/// record; otherwise the current value is kept and only the resolution is recorded. Returns the
/// file as it is now (no second `patient.viewed`: the resolution is itself on the record).
///
/// Refused with `not_found` / `conflict_not_found` when the file has no such conflict, and
/// `conflict` / `conflict_already_resolved` when someone resolved it already.
pub fn resolve_conflict(
    ledger: &mut Ledger,
    actor: &Actor,
    patient_id: &str,
    record_id: &str,
    field: &str,
    apply: bool,
) -> Result<PatientFile> {
    let current = get(ledger.conn(), patient_id)?;
    let conflict = conflicts(ledger.conn(), patient_id)?
        .into_iter()
        .find(|c| c.record_id == record_id && c.field == field)
        .ok_or_else(|| {
            CoreError::new(ErrorCode::NotFound, "this file has no such edit conflict")
                .with("what", "conflict")
                .with("reason", "conflict_not_found")
        })?;
    if conflict.resolution.is_some() {
        return Err(CoreError::new(
            ErrorCode::Conflict,
            "this edit conflict has been resolved already",
        )
        .with("reason", "conflict_already_resolved"));
    }
    let mut events = Vec::with_capacity(2);
    if apply {
        let wanted = with_field(&current.fields, field, &conflict.proposed)?;
        if let Some(mut edit) = edit_of(ledger, &current, &wanted)? {
            // Only the conflicted field: the rest of the file is not this decision's business.
            edit.changes.retain(|c| c.field == field);
            if !edit.changes.is_empty() {
                events.push(edit.into());
            }
        }
    }
    events.push(
        PatientConflictResolved {
            patient_id: patient_id.to_owned(),
            record_id: record_id.to_owned(),
            field: field.to_owned(),
            outcome: if apply {
                ConflictOutcome::Applied
            } else {
                ConflictOutcome::Dismissed
            },
        }
        .into(),
    );
    ledger.append_all(actor, events)?;
    file(ledger.conn(), patient_id)
}

/// The file as the records left it: fields, history and open conflicts.
fn file(conn: &Connection, patient_id: &str) -> Result<PatientFile> {
    with_history(conn, get(conn, patient_id)?)
}

fn with_history(conn: &Connection, patient: Patient) -> Result<PatientFile> {
    Ok(PatientFile {
        history: history(conn, &patient.id)?,
        conflicts: open_conflicts(conn, &patient.id)?,
        patient,
    })
}

/// Opens a file: the opening itself is recorded before the file is returned.
pub fn open(ledger: &mut Ledger, actor: &Actor, patient_id: &str) -> Result<PatientFile> {
    let patient = get(ledger.conn(), patient_id)?;
    ledger.append(
        actor,
        PatientViewed {
            patient_id: patient_id.to_owned(),
        }
        .into(),
    )?;
    // The viewing record changes the history, not the patient: no second read of the row.
    with_history(ledger.conn(), patient)
}

pub fn get(conn: &Connection, id: &str) -> Result<Patient> {
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

/// The file's history, oldest first, read from the records themselves.
pub fn history(conn: &Connection, patient_id: &str) -> Result<Vec<PatientChange>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT r.kind, r.device_time, r.actor_user_id, u.display_name, r.payload
         FROM records r
         LEFT JOIN users u ON u.id = r.actor_user_id
         WHERE {PATIENT_OF_RECORD} = ?1 AND r.kind LIKE 'patient.%'
         ORDER BY r.local_index"
    ))?;
    let rows = stmt.query_map([patient_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Vec<u8>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, at, by_user_id, by_name, payload) = row?;
        let (changes, resolved) = match kind.as_str() {
            "patient.updated" => (serde_json::from_slice::<PatientUpdated>(&payload)?.changes, None),
            "patient.conflict_resolved" => (Vec::new(), Some(serde_json::from_slice(&payload)?)),
            _ => (Vec::new(), None),
        };
        out.push(PatientChange {
            at,
            by_user_id,
            by_name,
            kind,
            changes,
            resolved,
        });
    }
    Ok(out)
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
         FROM patients_fts f JOIN patients p ON p.id = f.patient_id
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
