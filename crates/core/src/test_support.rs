//! For tests and benchmarks only — the app never calls this (a test in
//! `crates/core/tests/ledger_roles.rs` fails if the shell, the server or the sync client
//! names it).
//!
//! The app gets its [`Actor`]s from the authorization step alone. Tests and benches that
//! write straight through the ledger (to build 100k-record chains quickly, or to act as a
//! tampered workstation whose records the branch server must refuse) get one here.

use crate::Result;
use crate::kind::Event;
use crate::ledger::{Actor, Ledger};
use crate::permissions::Role;
use crate::record::Record;

/// An actor as if `user_id` had signed in with `role` (tests and benches only).
pub fn actor(user_id: &str, role: Role, session_id: Option<&str>) -> Actor {
    Actor::new(user_id, Some(role), session_id)
}

/// Appends `events` without the ledger's role check, as a tampered or outdated workstation
/// could: what the branch server's admission must refuse (tests only).
pub fn forge(ledger: &mut Ledger, actor: &Actor, events: Vec<Event>) -> Result<Vec<Record>> {
    ledger.write_all(actor, events, &[])
}
