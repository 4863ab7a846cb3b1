//! Errors that cross every boundary (IPC, CLI, tests) as a stable `code` plus an English
//! message. The UI translates by `code` (ui/src/i18n), so each code needs an entry there in both
//! languages; `details` carries the values a message may show (a field name, a time).

use serde::Serialize;
use std::collections::BTreeMap;

pub type Result<T> = std::result::Result<T, CoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A field failed validation; `details.field` names it.
    Invalid,
    NotFound,
    /// The role's permissions do not include the action; the attempt was audited.
    Forbidden,
    NotLoggedIn,
    /// The session went idle; the user must enter their password again.
    SessionLocked,
    BadCredentials,
    /// Too many failed logins; `details.until` says when it unlocks.
    AccountLocked,
    AccountInactive,
    AlreadySetUp,
    NotSetUp,
    /// The database belongs to another device key.
    DeviceMismatch,
    /// Another DentPro window or tool has this workstation's data directory open.
    DataDirInUse,
    KeyStorage,
    /// The data directory (or a file in it) may not be read or written by this user.
    DataDirPermission,
    /// The disk (or the database's size limit) is full; nothing was written.
    DiskFull,
    /// The database file or a record in it is damaged; `details` name the record, page or table.
    DatabaseCorrupt,
    /// A user's row in `users` disagrees with the account's signed records; `details.field`.
    AccountTampered,
    Conflict,
    /// The branch server (or a pulled log) did not pass the sync checks; `details.reason` says which.
    SyncRejected,
    /// The branch server could not be reached or answered with an error.
    SyncUnavailable,
    Storage,
    Internal,
}

#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct CoreError {
    pub code: ErrorCode,
    pub message: String,
    pub details: BTreeMap<String, String>,
}

impl CoreError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: BTreeMap::new(),
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// A validation failure on `field`; `reason` is a stable key the UI translates.
    pub fn invalid(field: &str, reason: &str) -> Self {
        Self::new(
            ErrorCode::Invalid,
            format!("{field}: {}", reason.replace('_', " ")),
        )
        .with("field", field)
        .with("reason", reason)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found")).with("what", what)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        crate::integrity::sqlite_error(e)
    }
}

impl From<serde_json::Error> for CoreError {
    fn from(e: serde_json::Error) -> Self {
        CoreError::internal(format!("encoding error: {e}"))
    }
}

impl From<std::io::Error> for CoreError {
    fn from(e: std::io::Error) -> Self {
        crate::integrity::io_error(e)
    }
}
