//! DentPro's domain core: no Tauri in here, so the desktop shell, the command-line tool, the
//! (future) branch server and the tests all run exactly the same rules.
//!
//! Map (see ARCHITECTURE.md for the full picture):
//! - [`record`]: the signed, hash-chained record and its canonical bytes.
//! - [`device`]: the workstation's Ed25519 identity and where its key is kept.
//! - [`store`]: the SQLite database, migrations and its binding to the device.
//! - [`ledger`]: the one write path (authorise → record → projection → durable commit).
//! - [`events`]: every kind of record the workstation writes, and how it projects onto tables.
//! - [`permissions`]: the role × action matrix, as data.
//! - business areas: [`accounts`], [`patients`], [`audit`], [`settings`].
//! - [`workstation`]: the facade the shell calls; [`demo`] builds a demo branch.

pub mod accounts;
pub mod audit;
pub mod clock;
pub mod demo;
pub mod device;
pub mod documents;
pub mod error;
pub mod events;
pub mod integrity;
pub mod ledger;
pub mod outbox;
pub mod patients;
pub mod permissions;
pub mod private;
pub mod record;
pub mod replay;
pub mod settings;
pub mod store;
pub mod sync;
pub mod text;
pub mod workstation;

pub use error::{CoreError, ErrorCode, Result};
pub use workstation::Workstation;
