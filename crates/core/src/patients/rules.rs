//! The patients area's rules: validation, file numbers, building registrations, edits,
//! openings and conflict resolutions.

use super::queries::{conflicts, file, get, with_history};
use super::records::{
    ConflictOutcome, FIELDS, FieldChange, PatientConflictResolved, PatientFields, PatientRegistered,
    PatientUpdated, PatientViewed, Sex,
};
use super::views::{Patient, PatientFile, PatientInput};
use crate::ids::{PatientId, RecordId};
use crate::ledger::{Actor, Ledger};
use crate::text::{LINE_MAX, NAME_MAX, NOTES_MAX, PHONE_MAX, bounded, phone_digits};
use crate::{CoreError, ErrorCode, Result};
use chrono::NaiveDate;
use rusqlite::OptionalExtension;

fn field_values(p: &PatientFields) -> [String; 12] {
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

// ---- validation ----

/// Trims and checks every field, giving the fields a record signs; the error names the first
/// bad field and a reason key.
pub fn validate(input: &PatientInput, today: NaiveDate) -> Result<PatientFields> {
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
    Ok(PatientFields {
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
        .prepare_cached(concat!(
            "SELECT payload FROM records INDEXED BY records_kind
             WHERE kind = 'patient.registered' AND ",
            crate::kind_indexed!(),
            " AND device_id = ?1
             ORDER BY local_index DESC LIMIT 1"
        ))?
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
    let patient_id = PatientId::generate();
    let event = PatientRegistered {
        patient_id: patient_id.clone(),
        file_number: next_file_number(ledger)?,
        fields,
    };
    ledger.append(actor, event.into())?;
    get(ledger.conn(), &patient_id)
}

/// The fields as the file holds them now (validated when they were signed).
fn stored(p: &PatientInput) -> PatientFields {
    let p = p.clone();
    PatientFields {
        name_en: p.name_en,
        name_ar: p.name_ar,
        date_of_birth: p.date_of_birth,
        sex: p.sex,
        phone: p.phone,
        national_id: p.national_id,
        address: p.address,
        emergency_contact: p.emergency_contact,
        allergies: p.allergies,
        chronic_diseases: p.chronic_diseases,
        current_medications: p.current_medications,
        medical_history: p.medical_history,
    }
}

/// The edit that turns `current` into `input` (validated): `None` when nothing changes.
fn edit_of(ledger: &Ledger, current: &Patient, input: &PatientInput) -> Result<Option<PatientUpdated>> {
    let new = validate(input, ledger.clock().business_date())?;
    let changes: Vec<FieldChange> = FIELDS
        .iter()
        .zip(
            field_values(&stored(&current.fields))
                .into_iter()
                .zip(field_values(&new)),
        )
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

pub fn update(
    ledger: &mut Ledger,
    actor: &Actor,
    patient_id: &PatientId,
    input: &PatientInput,
) -> Result<Patient> {
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

/// What staff decide about an edit conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictDecision {
    /// "Use this value": the losing edit's value replaces the current one.
    ApplyLosingEdit,
    /// "Keep current": only the decision is recorded.
    KeepCurrent,
}

/// Acts on an open edit conflict of the file. `ApplyLosingEdit`: the losing edit's value
/// replaces the current one, by a normal `patient.updated` (from the current value, so it too
/// yields to an edit that reaches the server first) appended atomically with the
/// `patient.conflict_resolved` record; `KeepCurrent`: only the resolution is recorded. Returns
/// the file as it is now (no second `patient.viewed`: the resolution is itself on the record).
///
/// Refused with `not_found` / `conflict_not_found` when the file has no such conflict, and
/// `conflict` / `conflict_already_resolved` when someone resolved it already.
pub fn resolve_conflict(
    ledger: &mut Ledger,
    actor: &Actor,
    patient_id: &PatientId,
    record_id: &RecordId,
    field: &str,
    decision: ConflictDecision,
) -> Result<PatientFile> {
    let apply = decision == ConflictDecision::ApplyLosingEdit;
    let current = get(ledger.conn(), patient_id)?;
    let conflict = conflicts(ledger.conn(), patient_id)?
        .into_iter()
        .find(|c| c.record_id == *record_id && c.field == field)
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
            patient_id: patient_id.clone(),
            record_id: record_id.clone(),
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

/// Opens a file: the opening itself is recorded before the file is returned.
pub fn open(ledger: &mut Ledger, actor: &Actor, patient_id: &PatientId) -> Result<PatientFile> {
    let patient = get(ledger.conn(), patient_id)?;
    ledger.append(
        actor,
        PatientViewed {
            patient_id: patient_id.clone(),
        }
        .into(),
    )?;
    // The viewing record changes the history, not the patient: no second read of the row.
    with_history(ledger.conn(), patient)
}
