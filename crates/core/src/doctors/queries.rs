//! The only code reading the doctors area's tables, for this area and the others (the
//! appointment book will read [`availability`]).

use super::records::{ChairId, DayHours, DoctorId, Interval, LeaveId, LeaveSpan, Weekday};
use super::rules::clock_time;
use super::views::{Chair, DayAvailability, Doctor, DoctorCandidate, DoctorDetail, Leave};
use crate::{CoreError, Result};
use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row};

const DOCTOR_COLUMNS: &str =
    "d.doctor_id, d.user_id, u.username, d.name_en, d.name_ar, d.specialty, d.licence,
     d.status, d.registered_at, d.updated_at";

fn parse<T: std::str::FromStr>(i: usize, s: String) -> rusqlite::Result<T> {
    s.parse()
        .map_err(|_| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, s.into()))
}

fn read_doctor(r: &Row<'_>) -> rusqlite::Result<Doctor> {
    Ok(Doctor {
        id: r.get(0)?,
        user_id: r.get(1)?,
        username: r.get(2)?,
        name_en: r.get(3)?,
        name_ar: r.get(4)?,
        specialty: parse(5, r.get(5)?)?,
        licence: r.get(6)?,
        status: parse(7, r.get(7)?)?,
        registered_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Every doctor, in service first, then by English name.
pub fn list_doctors(conn: &Connection) -> Result<Vec<Doctor>> {
    let sql = format!(
        "SELECT {DOCTOR_COLUMNS} FROM doctors d LEFT JOIN users u ON u.id = d.user_id
         ORDER BY d.status = 'retired', d.name_en COLLATE NOCASE, d.doctor_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], read_doctor)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn doctor_where(conn: &Connection, condition: &str, value: &str) -> Result<Option<Doctor>> {
    let sql = format!(
        "SELECT {DOCTOR_COLUMNS} FROM doctors d LEFT JOIN users u ON u.id = d.user_id WHERE {condition}"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([value], read_doctor)
        .optional()?)
}

pub fn doctor(conn: &Connection, id: &DoctorId) -> Result<Doctor> {
    doctor_where(conn, "d.doctor_id = ?1", id)?.ok_or_else(|| CoreError::not_found("doctor"))
}

/// The profile linked to an account, if any.
pub fn doctor_of_user(conn: &Connection, user_id: &str) -> Result<Option<Doctor>> {
    doctor_where(conn, "d.user_id = ?1", user_id)
}

/// Who holds a licence number (normalised), if anyone.
pub fn licence_holder(conn: &Connection, licence: &str) -> Result<Option<DoctorId>> {
    Ok(conn
        .prepare_cached("SELECT doctor_id FROM doctors WHERE licence = ?1")?
        .query_row([licence], |r| r.get(0))
        .optional()?)
}

/// Active doctor accounts without a profile.
pub fn candidates(conn: &Connection) -> Result<Vec<DoctorCandidate>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, username, display_name FROM users u
         WHERE role = 'doctor' AND active = 1 AND NOT EXISTS (SELECT 1 FROM doctors d WHERE d.user_id = u.id)
         ORDER BY username",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DoctorCandidate {
            user_id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Minutes of each weekday's intervals, in order.
fn minutes_by_day(
    conn: &Connection,
    doctor_id: &str,
    weekday: Option<Weekday>,
) -> Result<Vec<(Weekday, u16, u16)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT weekday, start_minute, end_minute FROM doctor_hours
         WHERE doctor_id = ?1 AND (?2 IS NULL OR weekday = ?2) ORDER BY weekday, start_minute",
    )?;
    let rows = stmt.query_map(rusqlite::params![doctor_id, weekday.map(Weekday::number)], |r| {
        let day: u8 = r.get(0)?;
        let day = Weekday::from_number(day).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, "weekday".into())
        })?;
        Ok((day, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn interval(start: u16, end: u16) -> Interval {
    Interval {
        start: clock_time(start),
        end: clock_time(end),
    }
}

/// A doctor's week: the days with hours, Monday first.
pub fn week(conn: &Connection, doctor_id: &DoctorId) -> Result<Vec<DayHours>> {
    let mut week: Vec<DayHours> = Vec::new();
    for (day, start, end) in minutes_by_day(conn, doctor_id, None)? {
        match week.last_mut() {
            Some(d) if d.day == day => d.intervals.push(interval(start, end)),
            _ => week.push(DayHours {
                day,
                intervals: vec![interval(start, end)],
            }),
        }
    }
    Ok(week)
}

const LEAVE_COLUMNS: &str = "leave_id, doctor_id, kind, from_date, to_date, starts_minute, note, added_at, added_by, cancelled_at, cancelled_by";

fn read_leave(r: &Row<'_>) -> rusqlite::Result<Leave> {
    let kind: String = r.get(2)?;
    let (from, to): (String, String) = (r.get(3)?, r.get(4)?);
    let starts: Option<u16> = r.get(5)?;
    let span = match (kind.as_str(), starts) {
        ("day_off", _) => LeaveSpan::DayOff { date: from },
        ("late_start", Some(m)) => LeaveSpan::LateStart {
            date: from,
            starts_at: clock_time(m),
        },
        _ => LeaveSpan::Holiday { from, to },
    };
    Ok(Leave {
        id: r.get(0)?,
        doctor_id: r.get(1)?,
        span,
        note: r.get(6)?,
        added_at: r.get(7)?,
        added_by: r.get(8)?,
        cancelled_at: r.get(9)?,
        cancelled_by: r.get(10)?,
    })
}

pub fn leave(conn: &Connection, leave_id: &LeaveId) -> Result<Leave> {
    conn.prepare_cached(&format!(
        "SELECT {LEAVE_COLUMNS} FROM doctor_leave WHERE leave_id = ?1"
    ))?
    .query_row([leave_id], read_leave)
    .optional()?
    .ok_or_else(|| CoreError::not_found("leave"))
}

/// A doctor's leave, latest dates first, cancelled ones included.
pub fn leave_of(conn: &Connection, doctor_id: &DoctorId) -> Result<Vec<Leave>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LEAVE_COLUMNS} FROM doctor_leave WHERE doctor_id = ?1 ORDER BY from_date DESC, added_at DESC"
    ))?;
    let rows = stmt.query_map([doctor_id], read_leave)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn detail(conn: &Connection, doctor_id: &DoctorId) -> Result<DoctorDetail> {
    Ok(DoctorDetail {
        doctor: doctor(conn, doctor_id)?,
        week: week(conn, doctor_id)?,
        leave: leave_of(conn, doctor_id)?,
    })
}

/// A doctor's working intervals on `date` (`YYYY-MM-DD`): that weekday's hours, minus leave
/// that is not cancelled — none on a day off or during a holiday, and on a late start only
/// what remains from the (latest) starting time. A retired doctor has none.
pub fn availability(conn: &Connection, doctor_id: &DoctorId, date: &str) -> Result<DayAvailability> {
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .ok()
        .filter(|_| date.len() == 10)
        .ok_or_else(|| CoreError::invalid("date", "invalid_date"))?;
    let doctor = doctor(conn, doctor_id)?;
    let weekday = Weekday::of(day);
    let date = day.to_string();
    let leave: Vec<Leave> = {
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {LEAVE_COLUMNS} FROM doctor_leave
             WHERE doctor_id = ?1 AND cancelled_at IS NULL AND from_date <= ?2 AND to_date >= ?2
             ORDER BY from_date, leave_id"
        ))?;
        let rows = stmt.query_map([doctor_id.as_str(), date.as_str()], read_leave)?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let whole_day_off = leave
        .iter()
        .any(|l| !matches!(l.span, LeaveSpan::LateStart { .. }));
    let starts: Option<u16> = leave
        .iter()
        .filter_map(|l| match &l.span {
            LeaveSpan::LateStart { starts_at, .. } => super::rules::minute_of("starts_at", starts_at).ok(),
            _ => None,
        })
        .max();
    let intervals = if whole_day_off || doctor.status != super::records::Status::Active {
        Vec::new()
    } else {
        minutes_by_day(conn, doctor_id, Some(weekday))?
            .into_iter()
            .filter_map(|(_, start, end)| {
                let start = starts.map_or(start, |s| start.max(s));
                (start < end).then(|| interval(start, end))
            })
            .collect()
    };
    Ok(DayAvailability {
        doctor_id: doctor_id.clone(),
        date,
        weekday,
        intervals,
        leave,
    })
}

/// The branch's chairs, in service first, then by English label.
pub fn chairs(conn: &Connection) -> Result<Vec<Chair>> {
    let mut stmt = conn.prepare_cached(
        "SELECT chair_id, label_en, label_ar, status, added_at, updated_at FROM chairs
         ORDER BY status = 'retired', label_en COLLATE NOCASE, chair_id",
    )?;
    let rows = stmt.query_map([], read_chair)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn read_chair(r: &Row<'_>) -> rusqlite::Result<Chair> {
    Ok(Chair {
        id: r.get(0)?,
        label_en: r.get(1)?,
        label_ar: r.get(2)?,
        status: parse(3, r.get(3)?)?,
        added_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

pub fn chair(conn: &Connection, chair_id: &ChairId) -> Result<Chair> {
    conn.prepare_cached(
        "SELECT chair_id, label_en, label_ar, status, added_at, updated_at FROM chairs WHERE chair_id = ?1",
    )?
    .query_row([chair_id], read_chair)
    .optional()?
    .ok_or_else(|| CoreError::not_found("chair"))
}
