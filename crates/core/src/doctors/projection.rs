//! The only code writing the doctors area's tables (`doctors`, `doctor_hours`, `doctor_leave`,
//! `chairs`), called from the kinds' `apply`; and the deletes incremental replay runs per
//! subject.

use super::records::{
    ChairAdded, ChairUpdated, DoctorHoursSet, DoctorLeaveAdded, DoctorLeaveCancelled, DoctorRegistered,
    DoctorUpdated, Status,
};
use super::rules::{interval_minutes, leave_dates};
use crate::kind::Applied;
use crate::{CoreError, Result};
use rusqlite::{OptionalExtension, Transaction, params};

/// Tables holding rows of one doctor (subject `doctor:<id>`).
pub const DOCTOR_TABLES: &[&str] = &["doctors", "doctor_hours", "doctor_leave"];

pub(super) fn registered(tx: &Transaction<'_>, r: &DoctorRegistered, at: &Applied<'_>) -> Result<()> {
    let p = &r.profile;
    tx.prepare_cached(
        "INSERT INTO doctors (doctor_id, user_id, name_en, name_ar, specialty, licence, status,
                              registered_at, registered_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8, ?7)",
    )?
    .execute(params![
        r.doctor_id,
        r.user_id,
        p.name_en,
        p.name_ar,
        p.specialty.as_str(),
        p.licence,
        at.time(),
        at.record.body.actor_user_id,
    ])?;
    Ok(())
}

pub(super) fn updated(tx: &Transaction<'_>, u: &DoctorUpdated, at: &Applied<'_>) -> Result<()> {
    let p = &u.profile;
    let n = tx
        .prepare_cached(
            "UPDATE doctors SET name_en = ?2, name_ar = ?3, specialty = ?4, licence = ?5, status = ?6,
                                updated_at = ?7
             WHERE doctor_id = ?1",
        )?
        .execute(params![
            u.doctor_id,
            p.name_en,
            p.name_ar,
            p.specialty.as_str(),
            p.licence,
            u.status.as_str(),
            at.time(),
        ])?;
    if n != 1 {
        return Err(CoreError::not_found("doctor"));
    }
    Ok(())
}

fn require_doctor(tx: &Transaction<'_>, doctor_id: &str) -> Result<()> {
    tx.prepare_cached("SELECT 1 FROM doctors WHERE doctor_id = ?1")?
        .query_row([doctor_id], |_| Ok(()))
        .optional()?
        .ok_or_else(|| CoreError::not_found("doctor"))
}

pub(super) fn hours_set(tx: &Transaction<'_>, h: &DoctorHoursSet) -> Result<()> {
    require_doctor(tx, &h.doctor_id)?;
    tx.prepare_cached("DELETE FROM doctor_hours WHERE doctor_id = ?1")?
        .execute([&h.doctor_id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO doctor_hours (doctor_id, weekday, start_minute, end_minute) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for day in &h.week {
        for interval in &day.intervals {
            let (start, end) = interval_minutes(interval)?;
            insert.execute(params![h.doctor_id, day.day.number(), start, end])?;
        }
    }
    Ok(())
}

pub(super) fn leave_added(tx: &Transaction<'_>, l: &DoctorLeaveAdded, at: &Applied<'_>) -> Result<()> {
    require_doctor(tx, &l.doctor_id)?;
    let (from, to, starts) = leave_dates(&l.leave)?;
    tx.prepare_cached(
        "INSERT INTO doctor_leave (leave_id, doctor_id, kind, from_date, to_date, starts_minute, note,
                                   added_at, added_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        l.leave_id,
        l.doctor_id,
        l.leave.kind(),
        from.to_string(),
        to.to_string(),
        starts,
        l.note,
        at.time(),
        at.record.body.actor_user_id,
    ])?;
    Ok(())
}

pub(super) fn leave_cancelled(
    tx: &Transaction<'_>,
    c: &DoctorLeaveCancelled,
    at: &Applied<'_>,
) -> Result<()> {
    let found: Option<Option<String>> = tx
        .prepare_cached("SELECT cancelled_at FROM doctor_leave WHERE leave_id = ?1 AND doctor_id = ?2")?
        .query_row(params![c.leave_id, c.doctor_id], |r| r.get(0))
        .optional()?;
    match found {
        None => Err(CoreError::not_found("leave")),
        // Cancelled already (another desk, earlier in the log): nothing more to do.
        Some(Some(_)) => Ok(()),
        Some(None) => {
            tx.prepare_cached(
                "UPDATE doctor_leave SET cancelled_at = ?2, cancelled_by = ?3 WHERE leave_id = ?1",
            )?
            .execute(params![c.leave_id, at.time(), at.record.body.actor_user_id])?;
            Ok(())
        }
    }
}

pub(super) fn chair_added(tx: &Transaction<'_>, c: &ChairAdded, at: &Applied<'_>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO chairs (chair_id, label_en, label_ar, status, added_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        c.chair_id,
        c.label_en,
        c.label_ar,
        Status::Active.as_str(),
        at.time()
    ])?;
    Ok(())
}

pub(super) fn chair_updated(tx: &Transaction<'_>, c: &ChairUpdated, at: &Applied<'_>) -> Result<()> {
    let n = tx
        .prepare_cached("UPDATE chairs SET label_en = ?2, label_ar = ?3, status = ?4, updated_at = ?5 WHERE chair_id = ?1")?
        .execute(params![c.chair_id, c.label_en, c.label_ar, c.status.as_str(), at.time()])?;
    if n != 1 {
        return Err(CoreError::not_found("chair"));
    }
    Ok(())
}

// ---- incremental replay: one subject's rows ----

/// Deletes one doctor's rows (subject `doctor:<id>`).
pub(crate) fn delete_doctor_projection(tx: &Transaction<'_>, doctor_id: &str) -> Result<()> {
    for table in DOCTOR_TABLES {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE doctor_id = ?1"))?
            .execute([doctor_id])?;
    }
    Ok(())
}

/// Deletes the profile holding a licence number (subject `licence:<number>`).
pub(crate) fn delete_licence_projection(tx: &Transaction<'_>, licence: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM doctors WHERE licence = ?1")?
        .execute([licence])?;
    Ok(())
}

/// Deletes the profile linked to an account (subject `doctor_user:<user id>`).
pub(crate) fn delete_doctor_user_projection(tx: &Transaction<'_>, user_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM doctors WHERE user_id = ?1")?
        .execute([user_id])?;
    Ok(())
}

/// Deletes one chair's row (subject `chair:<id>`).
pub(crate) fn delete_chair_projection(tx: &Transaction<'_>, chair_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM chairs WHERE chair_id = ?1")?
        .execute([chair_id])?;
    Ok(())
}

/// The doctors area's subjects for incremental replay ([`crate::replay`]): a doctor, a licence
/// number (two desks giving one licence offline replay in log order), a doctor's user account
/// (one profile per account) and a chair.
pub const SUBJECTS: &[crate::kind::SubjectKind] = &[
    crate::kind::SubjectKind {
        prefix: "doctor",
        finder: crate::kind::Finder::Payload("json_extract(CAST(r.payload AS TEXT), '$.doctor_id')"),
        tables: DOCTOR_TABLES,
        delete: delete_doctor_projection,
    },
    crate::kind::SubjectKind {
        prefix: "licence",
        finder: crate::kind::Finder::Payload("json_extract(CAST(r.payload AS TEXT), '$.profile.licence')"),
        tables: &["doctors"],
        delete: delete_licence_projection,
    },
    crate::kind::SubjectKind {
        prefix: "doctor_user",
        finder: crate::kind::Finder::Payload(crate::accounts::USER_OF_RECORD),
        tables: &["doctors"],
        delete: delete_doctor_user_projection,
    },
    crate::kind::SubjectKind {
        prefix: "chair",
        finder: crate::kind::Finder::Payload("json_extract(CAST(r.payload AS TEXT), '$.chair_id')"),
        tables: &["chairs"],
        delete: delete_chair_projection,
    },
];
