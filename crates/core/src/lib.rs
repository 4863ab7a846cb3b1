//! DentPro's domain core: no Tauri in here, so the desktop shell, the command-line tool, the
//! (future) branch server and the tests all run exactly the same rules.
//!
//! Map (see ARCHITECTURE.md for the full picture):
//! - [`record`]: the signed, hash-chained record and its canonical bytes.
//! - [`device`]: the workstation's Ed25519 identity and where its key is kept.
//! - [`store`]: the SQLite database, migrations and its binding to the device.
//! - [`ledger`]: the one write path (authorise → record → projection → durable commit).
//! - [`kind`]: the [`kind::Kind`] trait every record kind implements (its action, subjects,
//!   projection tables, how it applies, the server's admission rule); [`registry`]: the list.
//! - [`permissions`]: the role × action matrix, as data; [`ids`]: identifier types.
//! - business areas, one folder each (`records`, `rules`, `projection`, `queries`, `views`,
//!   and `facade`: the area's handle, `ws.patients()` and the like, through which the shell
//!   calls its commands):
//!   [`accounts`], [`patients`], [`audit`], [`devices`], [`settings`], [`doctors`]; [`sync`]: records
//!   travelling through the branch server; [`replay`]: replaying only the subjects a late
//!   record touches.
//! - [`outbox`]: side effects run once after a record commits; [`documents`]: the encrypted,
//!   content-addressed documents store and the PDFs rendered into it.
//! - [`workstation`]: opening, sign-in and sessions, authorization; [`demo`] builds a demo
//!   branch.

pub mod accounts;
pub mod audit;
pub mod clock;
pub mod demo;
pub mod device;
pub mod devices;
pub mod doctors;
pub mod documents;
pub mod error;
pub mod ids;
pub mod integrity;
pub mod kind;
pub mod ledger;
pub mod outbox;
pub mod patients;
pub mod permissions;
pub mod private;
pub mod record;
pub mod registry;
pub mod replay;
pub mod settings;
pub mod store;
pub mod sync;
#[doc(hidden)]
pub mod test_support;
pub mod text;
pub mod workstation;

pub use error::{CoreError, ErrorCode, Result};
pub use workstation::Workstation;
