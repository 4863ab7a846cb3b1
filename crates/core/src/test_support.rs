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

/// A workstation in `data_dir` (device key in a file) with a branch set up and a receptionist
/// signed in, as the write-path benches start (benches only). Returns it and the
/// receptionist's session.
pub fn bench_desk(data_dir: std::path::PathBuf) -> (crate::workstation::Workstation, crate::ids::SessionId) {
    use crate::accounts::{Language, NewUser, SetupInput};
    const PASSWORD: &str = "bench-password-1";
    let mut ws = crate::workstation::Workstation::open(crate::workstation::OpenOptions {
        data_dir,
        key_store: crate::device::KeyStorePreference::File,
        clock: std::sync::Arc::new(crate::clock::SystemClock),
    })
    .expect("a bench workstation opens");
    let admin = ws
        .setup_branch(&SetupInput {
            branch_name: "Bench Clinic".into(),
            branch_code: "BENCH".into(),
            admin_username: "admin".into(),
            admin_display_name: "Admin".into(),
            admin_password: PASSWORD.into(),
            language: Language::En,
        })
        .expect("the bench branch is set up");
    ws.accounts()
        .create_user(
            &admin.session_id,
            &NewUser {
                username: "desk".into(),
                display_name: "Desk".into(),
                role: Role::Receptionist,
                password: PASSWORD.into(),
                language: Language::En,
            },
        )
        .expect("the bench receptionist is created");
    let desk = ws
        .login("desk", PASSWORD)
        .expect("the receptionist signs in")
        .session_id;
    (ws, desk)
}
