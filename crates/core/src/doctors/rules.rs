//! The doctors area's rules: validating profiles, hours, leave and chair labels, building their
//! records, and the branch server's admission rules for them.

use super::queries;
use super::records::{
    ChairAdded, ChairId, ChairUpdated, DayHours, DoctorHoursSet, DoctorId, DoctorLeaveAdded,
    DoctorLeaveCancelled, DoctorProfile, DoctorRegistered, DoctorUpdated, Interval, LeaveId, LeaveSpan,
    Status,
};
use super::views::{Chair, ChairInput, ChairUpdate, Doctor, DoctorInput, DoctorUpdate, Leave, LeaveInput};
use crate::accounts;
use crate::ids::UserId;
use crate::ledger::{Actor, Ledger};
use crate::permissions::Role;
use crate::text::{LABEL_MAX, LINE_MAX, NAME_MAX, bounded};
use crate::{CoreError, ErrorCode, Result};
use chrono::NaiveDate;
use rusqlite::Connection;

/// Longest licence number (characters).
pub const LICENCE_MAX: usize = 30;
/// Most working intervals in one day.
pub const INTERVALS_MAX: usize = 6;
/// Longest holiday, in days.
pub const HOLIDAY_DAYS_MAX: i64 = 366;

// ---- validation (the workstation before signing, the server when admitting) ----

/// Minutes since midnight of a strict `HH:MM` (00:00 to 23:59).
pub fn minute_of(field: &str, s: &str) -> Result<u16> {
    let bad = || CoreError::invalid(field, "time_format");
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return Err(bad());
    }
    let n = |i: usize| u16::from(b[i] - b'0');
    let (h, m) = (n(0) * 10 + n(1), n(3) * 10 + n(4));
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `HH:MM` of a minute of the day.
pub fn clock_time(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// An interval's minutes, checked: a valid start before a valid end.
pub fn interval_minutes(i: &Interval) -> Result<(u16, u16)> {
    let (start, end) = (minute_of("hours", &i.start)?, minute_of("hours", &i.end)?);
    if start >= end {
        return Err(CoreError::invalid("hours", "interval_order"));
    }
    Ok((start, end))
}

/// A week of hours: each day at most once, each day's intervals valid, in order, not
/// overlapping, at most [`INTERVALS_MAX`]. Errors name the day (`details.day`).
pub fn check_week(week: &[DayHours]) -> Result<()> {
    for (i, day) in week.iter().enumerate() {
        let at_day = |e: CoreError| e.with("day", day.day.as_str());
        if week[..i].iter().any(|d| d.day == day.day) {
            return Err(at_day(CoreError::invalid("hours", "duplicate_day")));
        }
        if day.intervals.len() > INTERVALS_MAX {
            return Err(at_day(
                CoreError::invalid("hours", "too_many_intervals").with("max", INTERVALS_MAX.to_string()),
            ));
        }
        let mut previous_end: Option<u16> = None;
        for interval in &day.intervals {
            let (start, end) = interval_minutes(interval).map_err(at_day)?;
            if previous_end.is_some_and(|p| start < p) {
                return Err(at_day(CoreError::invalid("hours", "intervals_overlap")));
            }
            previous_end = Some(end);
        }
    }
    Ok(())
}

fn date(field: &str, s: &str) -> Result<NaiveDate> {
    if s.len() != 10 {
        return Err(CoreError::invalid(field, "invalid_date"));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| CoreError::invalid(field, "invalid_date"))
}

/// The dates a leave covers (first, last) and, for a late start, the minute work starts.
pub fn leave_dates(span: &LeaveSpan) -> Result<(NaiveDate, NaiveDate, Option<u16>)> {
    match span {
        LeaveSpan::DayOff { date: d } => {
            let d = date("date", d)?;
            Ok((d, d, None))
        }
        LeaveSpan::Holiday { from, to } => {
            let (from, to) = (date("from", from)?, date("to", to)?);
            if to < from {
                return Err(CoreError::invalid("to", "date_order"));
            }
            if (to - from).num_days() >= HOLIDAY_DAYS_MAX {
                return Err(CoreError::invalid("to", "out_of_range")
                    .with("min", "1")
                    .with("max", HOLIDAY_DAYS_MAX.to_string()));
            }
            Ok((from, to, None))
        }
        LeaveSpan::LateStart { date: d, starts_at } => {
            let d = date("date", d)?;
            Ok((d, d, Some(minute_of("starts_at", starts_at)?)))
        }
    }
}

pub fn check_leave(span: &LeaveSpan, note: &str) -> Result<()> {
    leave_dates(span)?;
    if bounded("note", note, LINE_MAX)? != note {
        return Err(CoreError::invalid("note", "not_trimmed"));
    }
    Ok(())
}

/// Both names required and bounded; the specialty is from the closed list (by its type); the
/// licence 1–30 letters, digits, `-`, `/`, `.` or spaces, upper-cased. Returns the normalised
/// profile.
pub fn normalise_profile(p: &DoctorProfile) -> Result<DoctorProfile> {
    let name_en = required("name_en", &p.name_en, NAME_MAX)?;
    let name_ar = required("name_ar", &p.name_ar, NAME_MAX)?;
    let licence = required("licence", &p.licence, LICENCE_MAX)?.to_uppercase();
    if !licence
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-/. ".contains(c))
    {
        return Err(CoreError::invalid("licence", "licence_format"));
    }
    Ok(DoctorProfile {
        name_en,
        name_ar,
        specialty: p.specialty,
        licence,
    })
}

/// A signed profile must be the normalised one (what the workstation's rules sign).
pub fn check_profile(p: &DoctorProfile) -> Result<()> {
    if normalise_profile(p)? != *p {
        return Err(CoreError::invalid("profile", "not_normalised"));
    }
    Ok(())
}

fn required(field: &str, value: &str, max: usize) -> Result<String> {
    let v = bounded(field, value, max)?;
    if v.is_empty() {
        return Err(CoreError::invalid(field, "required"));
    }
    Ok(v)
}

pub fn check_labels(label_en: &str, label_ar: &str) -> Result<()> {
    let (en, ar) = labels(label_en, label_ar)?;
    if en != label_en || ar != label_ar {
        return Err(CoreError::invalid("label_en", "not_trimmed"));
    }
    Ok(())
}

fn labels(label_en: &str, label_ar: &str) -> Result<(String, String)> {
    Ok((
        required("label_en", label_en, LABEL_MAX)?,
        required("label_ar", label_ar, LABEL_MAX)?,
    ))
}

/// A profile links an existing, active account of role doctor.
fn check_doctor_account(conn: &Connection, user_id: &UserId) -> Result<()> {
    let user = match accounts::user_by_id(conn, user_id) {
        Err(e) if e.code == ErrorCode::NotFound => return Err(CoreError::invalid("user_id", "unknown_user")),
        other => other?,
    };
    if user.role != Role::Doctor {
        return Err(CoreError::invalid("user_id", "not_a_doctor"));
    }
    if !user.active {
        return Err(CoreError::invalid("user_id", "user_inactive"));
    }
    Ok(())
}

/// The server's rule for `doctor.registered`: a normalised profile, linking an active doctor's
/// account. (One profile per account and one licence per branch are the projection's unique
/// keys: a second one does not apply, so the server refuses it.)
pub(crate) fn admit_registered(conn: &Connection, r: &DoctorRegistered) -> Result<Option<String>> {
    let problem = check_profile(&r.profile).and_then(|()| check_doctor_account(conn, &r.user_id));
    Ok(problem.err().map(|e| {
        let reason = e.details.get("reason").cloned().unwrap_or_default();
        format!("{reason}: {}", e.message)
    }))
}

// ---- records ----

fn licence_free(conn: &Connection, licence: &str, except: Option<&DoctorId>) -> Result<()> {
    match queries::licence_holder(conn, licence)? {
        Some(holder) if Some(&holder) != except => Err(CoreError::new(
            ErrorCode::Conflict,
            format!("licence number {licence} belongs to another doctor"),
        )
        .with("field", "licence")
        .with("reason", "licence_taken")),
        _ => Ok(()),
    }
}

pub fn register(ledger: &mut Ledger, actor: &Actor, input: &DoctorInput) -> Result<Doctor> {
    let profile = normalise_profile(&DoctorProfile {
        name_en: input.name_en.clone(),
        name_ar: input.name_ar.clone(),
        specialty: input.specialty,
        licence: input.licence.clone(),
    })?;
    let conn = ledger.conn();
    check_doctor_account(conn, &input.user_id)?;
    if queries::doctor_of_user(conn, &input.user_id)?.is_some() {
        return Err(
            CoreError::new(ErrorCode::Conflict, "this account already has a doctor profile")
                .with("field", "user_id")
                .with("reason", "profile_exists"),
        );
    }
    licence_free(conn, &profile.licence, None)?;
    let doctor_id = DoctorId::generate();
    let event = DoctorRegistered {
        doctor_id: doctor_id.clone(),
        user_id: input.user_id.clone(),
        profile,
    };
    ledger.append(actor, event.into())?;
    queries::doctor(ledger.conn(), &doctor_id)
}

pub fn update(
    ledger: &mut Ledger,
    actor: &Actor,
    doctor_id: &DoctorId,
    input: &DoctorUpdate,
) -> Result<Doctor> {
    let profile = normalise_profile(&DoctorProfile {
        name_en: input.name_en.clone(),
        name_ar: input.name_ar.clone(),
        specialty: input.specialty,
        licence: input.licence.clone(),
    })?;
    queries::doctor(ledger.conn(), doctor_id)?;
    licence_free(ledger.conn(), &profile.licence, Some(doctor_id))?;
    let event = DoctorUpdated {
        doctor_id: doctor_id.clone(),
        profile,
        status: input.status,
    };
    ledger.append(actor, event.into())?;
    queries::doctor(ledger.conn(), doctor_id)
}

/// Hours and leave are kept for doctors in service only.
fn active_doctor(conn: &Connection, doctor_id: &DoctorId) -> Result<Doctor> {
    let doctor = queries::doctor(conn, doctor_id)?;
    if doctor.status != Status::Active {
        return Err(CoreError::invalid("doctor_id", "doctor_retired"));
    }
    Ok(doctor)
}

/// Replaces the doctor's whole week; returns it as stored (days in order, Monday first).
pub fn set_hours(
    ledger: &mut Ledger,
    actor: &Actor,
    doctor_id: &DoctorId,
    week: &[DayHours],
) -> Result<Vec<DayHours>> {
    active_doctor(ledger.conn(), doctor_id)?;
    check_week(week)?;
    let mut week: Vec<DayHours> = week.iter().filter(|d| !d.intervals.is_empty()).cloned().collect();
    week.sort_by_key(|d| d.day);
    let event = DoctorHoursSet {
        doctor_id: doctor_id.clone(),
        week,
    };
    ledger.append(actor, event.into())?;
    queries::week(ledger.conn(), doctor_id)
}

pub fn add_leave(
    ledger: &mut Ledger,
    actor: &Actor,
    doctor_id: &DoctorId,
    input: &LeaveInput,
) -> Result<Leave> {
    active_doctor(ledger.conn(), doctor_id)?;
    let note = bounded("note", &input.note, LINE_MAX)?;
    check_leave(&input.span, &note)?;
    let leave_id = LeaveId::generate();
    let event = DoctorLeaveAdded {
        leave_id: leave_id.clone(),
        doctor_id: doctor_id.clone(),
        leave: input.span.clone(),
        note,
    };
    ledger.append(actor, event.into())?;
    queries::leave(ledger.conn(), &leave_id)
}

pub fn cancel_leave(
    ledger: &mut Ledger,
    actor: &Actor,
    doctor_id: &DoctorId,
    leave_id: &LeaveId,
) -> Result<Leave> {
    let leave = queries::leave(ledger.conn(), leave_id)?;
    if leave.doctor_id != *doctor_id {
        return Err(CoreError::not_found("leave"));
    }
    if leave.cancelled_at.is_some() {
        return Err(CoreError::invalid("leave_id", "already_cancelled"));
    }
    let event = DoctorLeaveCancelled {
        leave_id: leave_id.clone(),
        doctor_id: doctor_id.clone(),
    };
    ledger.append(actor, event.into())?;
    queries::leave(ledger.conn(), leave_id)
}

pub fn add_chair(ledger: &mut Ledger, actor: &Actor, input: &ChairInput) -> Result<Chair> {
    let (label_en, label_ar) = labels(&input.label_en, &input.label_ar)?;
    let chair_id = ChairId::generate();
    let event = ChairAdded {
        chair_id: chair_id.clone(),
        label_en,
        label_ar,
    };
    ledger.append(actor, event.into())?;
    queries::chair(ledger.conn(), &chair_id)
}

pub fn update_chair(
    ledger: &mut Ledger,
    actor: &Actor,
    chair_id: &ChairId,
    input: &ChairUpdate,
) -> Result<Chair> {
    let (label_en, label_ar) = labels(&input.label_en, &input.label_ar)?;
    queries::chair(ledger.conn(), chair_id)?;
    let event = ChairUpdated {
        chair_id: chair_id.clone(),
        label_en,
        label_ar,
        status: input.status,
    };
    ledger.append(actor, event.into())?;
    queries::chair(ledger.conn(), chair_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_strict() {
        assert_eq!(minute_of("t", "00:00").unwrap(), 0);
        assert_eq!(minute_of("t", "23:59").unwrap(), 23 * 60 + 59);
        for bad in [
            "24:00",
            "9:00",
            "09:60",
            "09-00",
            " 09:00",
            "0900",
            "09:00:00",
            "٠٩:٠٠",
            "",
        ] {
            assert!(minute_of("t", bad).is_err(), "{bad:?}");
        }
        assert_eq!(clock_time(9 * 60 + 5), "09:05");
    }
}
