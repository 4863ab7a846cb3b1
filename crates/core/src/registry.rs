//! The one list of record kinds (and of the subjects they name): adding a kind is one line here (its payload type implements
//! [`Kind`] in its area's `records.rs` / `projection.rs`). Decoding a stored record, the
//! projection tables a rebuild replays and verifies, the UI's list of kinds and the guard tests
//! all come from this list.

use crate::kind::{Event, Kind, SubjectKind, TableView, plain_rows};
use crate::permissions::Action;
use crate::{CoreError, Result};
use crate::{accounts, audit, devices, doctors, documents, patients, settings};
use rusqlite::Connection;

/// One registered kind: what its [`Kind`] impl says, and how to read its payload.
#[derive(Clone, Copy)]
pub struct KindEntry {
    pub kind: &'static str,
    pub version: u32,
    pub action: Option<Action>,
    pub tables: &'static [&'static str],
    /// The Rust path of its payload type (the guard that keeps payload types off IPC).
    pub payload_type: fn() -> &'static str,
    decode: fn(u32, &[u8]) -> Result<Event>,
}

impl std::fmt::Debug for KindEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KindEntry")
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("action", &self.action)
            .field("tables", &self.tables)
            .finish()
    }
}

fn decode_as<K: Kind>(version: u32, payload: &[u8]) -> Result<Event> {
    K::decode(version, payload).map(Event::from)
}

const fn entry<K: Kind>() -> KindEntry {
    KindEntry {
        kind: K::KIND,
        version: K::VERSION,
        action: K::ACTION,
        tables: K::TABLES,
        payload_type: std::any::type_name::<K>,
        decode: decode_as::<K>,
    }
}

/// Every kind of record, in the order they were introduced.
pub static KINDS: &[KindEntry] = &[
    entry::<devices::DeviceInitialized>(),
    entry::<audit::AccessDenied>(),
    entry::<accounts::BranchCreated>(),
    entry::<accounts::UserCreated>(),
    entry::<accounts::PasswordReset>(),
    entry::<accounts::UserDeactivated>(),
    entry::<accounts::UserReactivated>(),
    entry::<accounts::LanguageSet>(),
    entry::<accounts::LoginSucceeded>(),
    entry::<accounts::LoginFailed>(),
    entry::<accounts::LoggedOut>(),
    entry::<accounts::SessionLocked>(),
    entry::<accounts::SessionUnlocked>(),
    entry::<settings::SettingChanged>(),
    entry::<patients::PatientRegistered>(),
    entry::<patients::PatientUpdated>(),
    entry::<patients::PatientViewed>(),
    entry::<patients::PatientConflictResolved>(),
    entry::<audit::AuditVerified>(),
    entry::<accounts::CashierTerminalsSet>(),
    entry::<devices::DeviceEnrolled>(),
    entry::<devices::DeviceRevoked>(),
    entry::<documents::audit_report::AuditReportGenerated>(),
    entry::<doctors::DoctorRegistered>(),
    entry::<doctors::DoctorUpdated>(),
    entry::<doctors::DoctorHoursSet>(),
    entry::<doctors::DoctorLeaveAdded>(),
    entry::<doctors::DoctorLeaveCancelled>(),
    entry::<doctors::ChairAdded>(),
    entry::<doctors::ChairUpdated>(),
];

/// Every kind of subject records name, one line per area (each declared next to the area's
/// projection): what [`crate::replay`] deletes and re-applies.
pub static SUBJECT_KINDS: &[&[SubjectKind]] = &[
    accounts::projection::SUBJECTS,
    patients::projection::SUBJECTS,
    settings::projection::SUBJECTS,
    devices::projection::SUBJECTS,
    doctors::projection::SUBJECTS,
];

/// Data steps run after the migrations at every open, for what SQL cannot derive (each is a
/// no-op when its data is current): one line per area that has any.
pub static AFTER_MIGRATIONS: &[fn(&mut Connection) -> Result<()>] =
    &[patients::projection::ensure_search_terms];

/// The projection tables not read or emptied as plain rows, one line per area that has any.
pub static TABLE_VIEWS: &[&[TableView]] = &[patients::projection::TABLE_VIEWS];

fn view_of(table: &str) -> Option<&'static TableView> {
    TABLE_VIEWS
        .iter()
        .flat_map(|area| area.iter())
        .find(|v| v.table == table)
}

/// A projection table's rows as text, comparable between the live database and a rebuild.
pub fn projection_rows(conn: &Connection, table: &str) -> Result<Vec<String>> {
    match view_of(table) {
        Some(view) => (view.rows)(conn),
        None => plain_rows(conn, table, &[]),
    }
}

/// Empties a projection table (before a full replay).
pub fn clear_projection(conn: &Connection, table: &str) -> Result<()> {
    match view_of(table) {
        Some(view) => (view.clear)(conn),
        None => Ok(conn.execute_batch(&format!("DELETE FROM {table}"))?),
    }
}

/// Every registered subject kind.
pub fn subject_kinds() -> impl Iterator<Item = &'static SubjectKind> {
    SUBJECT_KINDS.iter().flat_map(|area| area.iter())
}

/// The registered kind named `kind`.
pub fn entry_of(kind: &str) -> Option<&'static KindEntry> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Decodes a stored payload of `kind` at `version`.
pub fn decode(kind: &str, version: u32, payload: &[u8]) -> Result<Event> {
    let entry = entry_of(kind).ok_or_else(|| CoreError::internal(format!("unknown record kind {kind}")))?;
    (entry.decode)(version, payload)
}

/// Every kind string, in registry order (exported to the UI's bindings as `KNOWN_KINDS`).
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.kind).collect()
}

/// Every projection table some kind writes, each once, in registry order: what a replay clears
/// and what verification compares with a rebuild.
pub fn projection_tables() -> Vec<&'static str> {
    let mut tables: Vec<&'static str> = Vec::new();
    for table in KINDS.iter().flat_map(|k| k.tables.iter().copied()) {
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    tables
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_registered_once() {
        for k in KINDS {
            assert_eq!(KINDS.iter().filter(|o| o.kind == k.kind).count(), 1, "{}", k.kind);
        }
    }
}
