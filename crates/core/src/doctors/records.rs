//! The doctors area's signed payloads and their [`Kind`] impls. Their JSON is on signed records
//! forever (golden tests in `crates/core/tests/doctors.rs`).

use super::{projection, rules};
use crate::Result;
use crate::ids::UserId;
use crate::kind::{AdmitContext, Applied, Kind};
use crate::permissions::{Action, Role};
use rusqlite::Transaction;
use serde::{Deserialize, Serialize};

crate::id_type!(
    /// A doctor's profile (UUID v7), not their user account.
    DoctorId
);
crate::id_type!(
    /// A chair (operatory) of the branch (UUID v7).
    ChairId
);
crate::id_type!(
    /// One leave of a doctor (UUID v7), named again when it is cancelled.
    LeaveId
);

/// The dental specialties a profile may name (a closed list; the UI translates each).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Specialty {
    GeneralDentistry,
    Orthodontics,
    Endodontics,
    Periodontics,
    Prosthodontics,
    OralSurgery,
    PediatricDentistry,
    Implantology,
}

impl Specialty {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Whether a doctor or a chair is in service. Retired ones stay (records name them).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Active,
    Retired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A day of the week (ISO 8601 numbering in the tables: Monday = 1).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// 1 = Monday … 7 = Sunday.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    pub fn from_number(n: u8) -> Option<Self> {
        <Self as strum::IntoEnumIterator>::iter().nth(usize::from(n).checked_sub(1)?)
    }

    pub fn of(date: chrono::NaiveDate) -> Self {
        use chrono::Datelike;
        Self::from_number(date.weekday().number_from_monday() as u8).expect("1..=7")
    }
}

/// A span of working time within one day, `HH:MM` to `HH:MM` (24-hour clock, start < end).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Interval {
    pub start: String,
    pub end: String,
}

/// One weekday's working intervals, in order, not overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayHours {
    pub day: Weekday,
    pub intervals: Vec<Interval>,
}

/// What a leave takes out of a doctor's working hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LeaveSpan {
    /// One whole day.
    DayOff { date: String },
    /// Whole days, `from` to `to` inclusive.
    Holiday { from: String, to: String },
    /// Work starts at `starts_at` that day (earlier intervals are cut).
    LateStart { date: String, starts_at: String },
}

impl LeaveSpan {
    pub fn kind(&self) -> &'static str {
        match self {
            LeaveSpan::DayOff { .. } => "day_off",
            LeaveSpan::Holiday { .. } => "holiday",
            LeaveSpan::LateStart { .. } => "late_start",
        }
    }
}

/// A doctor's profile as signed: names, specialty, licence number (normalised: trimmed,
/// upper case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorProfile {
    pub name_en: String,
    pub name_ar: String,
    pub specialty: Specialty,
    pub licence: String,
}

fn doctor(id: &DoctorId) -> String {
    format!("doctor:{id}")
}

/// A licence number is unique in the branch: records that set one share the subject
/// `licence:<number>`, so two desks giving one number offline are replayed in log order.
fn licence(p: &DoctorProfile) -> String {
    format!("licence:{}", p.licence)
}

/// A new doctor profile, linked to an active account of role doctor (one profile per account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorRegistered {
    pub doctor_id: DoctorId,
    pub user_id: UserId,
    pub profile: DoctorProfile,
}

impl Kind for DoctorRegistered {
    const KIND: &'static str = "doctor.registered";
    const ACTION: Option<Action> = Some(Action::DoctorEdit);
    const TABLES: &'static [&'static str] = &["doctors"];
    fn subjects(&self) -> Vec<String> {
        vec![
            doctor(&self.doctor_id),
            licence(&self.profile),
            format!("doctor_user:{}", self.user_id),
        ]
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::registered(tx, self, at)
    }
    fn admit(&self, cx: &AdmitContext<'_>, _: Option<Role>) -> Result<Option<String>> {
        rules::admit_registered(cx.conn, self)
    }
}

/// A profile edited (whole: the last in the log wins), or the doctor retired / back in service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorUpdated {
    pub doctor_id: DoctorId,
    pub profile: DoctorProfile,
    pub status: Status,
}

impl Kind for DoctorUpdated {
    const KIND: &'static str = "doctor.updated";
    const ACTION: Option<Action> = Some(Action::DoctorEdit);
    const TABLES: &'static [&'static str] = &["doctors"];
    fn subjects(&self) -> Vec<String> {
        vec![doctor(&self.doctor_id), licence(&self.profile)]
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::updated(tx, self, at)
    }
    fn admit(&self, _: &AdmitContext<'_>, _: Option<Role>) -> Result<Option<String>> {
        Ok(rules::check_profile(&self.profile).err().map(refusal))
    }
}

/// A doctor's whole week of working hours (days not listed: no hours).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorHoursSet {
    pub doctor_id: DoctorId,
    pub week: Vec<DayHours>,
}

impl Kind for DoctorHoursSet {
    const KIND: &'static str = "doctor.hours_set";
    const ACTION: Option<Action> = Some(Action::DoctorEdit);
    const TABLES: &'static [&'static str] = &["doctor_hours"];
    fn subjects(&self) -> Vec<String> {
        vec![doctor(&self.doctor_id)]
    }
    fn apply(&self, tx: &Transaction<'_>, _: &Applied<'_>) -> Result<()> {
        projection::hours_set(tx, self)
    }
    fn admit(&self, _: &AdmitContext<'_>, _: Option<Role>) -> Result<Option<String>> {
        Ok(rules::check_week(&self.week).err().map(refusal))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorLeaveAdded {
    pub leave_id: LeaveId,
    pub doctor_id: DoctorId,
    pub leave: LeaveSpan,
    pub note: String,
}

impl Kind for DoctorLeaveAdded {
    const KIND: &'static str = "doctor.leave_added";
    const ACTION: Option<Action> = Some(Action::DoctorEdit);
    const TABLES: &'static [&'static str] = &["doctor_leave"];
    fn subjects(&self) -> Vec<String> {
        vec![doctor(&self.doctor_id)]
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::leave_added(tx, self, at)
    }
    fn admit(&self, _: &AdmitContext<'_>, _: Option<Role>) -> Result<Option<String>> {
        Ok(rules::check_leave(&self.leave, &self.note).err().map(refusal))
    }
}

/// A leave cancelled (it stays listed, as cancelled). Cancelling it twice (two desks offline)
/// changes nothing the second time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoctorLeaveCancelled {
    pub leave_id: LeaveId,
    pub doctor_id: DoctorId,
}

impl Kind for DoctorLeaveCancelled {
    const KIND: &'static str = "doctor.leave_cancelled";
    const ACTION: Option<Action> = Some(Action::DoctorEdit);
    const TABLES: &'static [&'static str] = &["doctor_leave"];
    fn subjects(&self) -> Vec<String> {
        vec![doctor(&self.doctor_id)]
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::leave_cancelled(tx, self, at)
    }
}

// What both chair kinds share: their subject is the chair, and the server checks their labels
// as the workstation did.
fn chair(id: &ChairId) -> Vec<String> {
    vec![format!("chair:{id}")]
}

fn admit_chair(label_en: &str, label_ar: &str) -> Result<Option<String>> {
    Ok(rules::check_labels(label_en, label_ar).err().map(refusal))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChairAdded {
    pub chair_id: ChairId,
    pub label_en: String,
    pub label_ar: String,
}

impl Kind for ChairAdded {
    const KIND: &'static str = "chair.added";
    const ACTION: Option<Action> = Some(Action::ChairEdit);
    const TABLES: &'static [&'static str] = &["chairs"];
    fn subjects(&self) -> Vec<String> {
        chair(&self.chair_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::chair_added(tx, self, at)
    }
    fn admit(&self, _: &AdmitContext<'_>, _: Option<Role>) -> Result<Option<String>> {
        admit_chair(&self.label_en, &self.label_ar)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChairUpdated {
    pub chair_id: ChairId,
    pub label_en: String,
    pub label_ar: String,
    pub status: Status,
}

impl Kind for ChairUpdated {
    const KIND: &'static str = "chair.updated";
    const ACTION: Option<Action> = Some(Action::ChairEdit);
    const TABLES: &'static [&'static str] = &["chairs"];
    fn subjects(&self) -> Vec<String> {
        chair(&self.chair_id)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        projection::chair_updated(tx, self, at)
    }
    fn admit(&self, _: &AdmitContext<'_>, _: Option<Role>) -> Result<Option<String>> {
        admit_chair(&self.label_en, &self.label_ar)
    }
}

/// The server's refusal for a payload the workstation's rules would not have signed.
fn refusal(e: crate::CoreError) -> String {
    format!("invalid_payload: {}", e.message)
}
