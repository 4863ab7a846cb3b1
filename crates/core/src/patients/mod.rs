//! Patients: registration, edits (each a record of who changed what), the audited opening of a
//! file, type-ahead search (SQLite FTS5), and edit conflicts and their resolution.
//!
//! File numbers: `<station>-<n>`, where `station` is the first four hex digits of the
//! registering device's id (upper case) and `n` that device's own count of registrations. Two
//! desks registering offline at the same moment draw from different stations, so numbers stay
//! unique in the branch without asking anyone; see ARCHITECTURE.md.

pub mod facade;
pub mod projection;
pub mod queries;
pub mod records;
pub mod rules;
pub mod views;

pub use queries::*;
pub use records::*;
pub use rules::*;
pub use views::*;
