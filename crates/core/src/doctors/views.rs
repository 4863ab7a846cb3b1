//! What the doctors area's commands take and give across IPC (never signed: free to change with
//! the UI). Small value types (weekday, interval, leave span, specialty, status) are shared with
//! the payloads.

use super::records::{ChairId, DayHours, DoctorId, Interval, LeaveId, LeaveSpan, Specialty, Status, Weekday};
use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// A new doctor profile, for an existing doctor's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DoctorInput {
    pub user_id: UserId,
    pub name_en: String,
    pub name_ar: String,
    pub specialty: Specialty,
    pub licence: String,
}

/// A profile edited as a whole (the account it links does not change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DoctorUpdate {
    pub name_en: String,
    pub name_ar: String,
    pub specialty: Specialty,
    pub licence: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Doctor {
    pub id: DoctorId,
    pub user_id: UserId,
    /// The linked account's username (`None` if this desk has not heard of it yet).
    pub username: Option<String>,
    pub name_en: String,
    pub name_ar: String,
    pub specialty: Specialty,
    pub licence: String,
    pub status: Status,
    pub registered_at: String,
    pub updated_at: String,
}

/// A doctor's profile with their week and their leave (newest first, cancelled ones too).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DoctorDetail {
    pub doctor: Doctor,
    pub week: Vec<DayHours>,
    pub leave: Vec<Leave>,
}

/// An account of role doctor, active, without a profile yet: whom a new profile may link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DoctorCandidate {
    pub user_id: UserId,
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LeaveInput {
    pub span: LeaveSpan,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Leave {
    pub id: LeaveId,
    pub doctor_id: DoctorId,
    pub span: LeaveSpan,
    pub note: String,
    pub added_at: String,
    pub added_by: Option<UserId>,
    pub cancelled_at: Option<String>,
    pub cancelled_by: Option<UserId>,
}

/// A doctor's working intervals on one date, after leave (empty: not working).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayAvailability {
    pub doctor_id: DoctorId,
    pub date: String,
    pub weekday: Weekday,
    pub intervals: Vec<Interval>,
    /// The leave (not cancelled) that touches this date.
    pub leave: Vec<Leave>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChairInput {
    pub label_en: String,
    pub label_ar: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChairUpdate {
    pub label_en: String,
    pub label_ar: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Chair {
    pub id: ChairId,
    pub label_en: String,
    pub label_ar: String,
    pub status: Status,
    pub added_at: String,
    pub updated_at: String,
}
