//! Helpers shared by the integration tests: real workstations on real SQLite files in temp
//! dirs, driven through the same facade the desktop shell calls.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use dentpro_core::accounts::{Language, NewUser, SetupInput};
use dentpro_core::clock::ManualClock;
use dentpro_core::device::KeyStorePreference;
use dentpro_core::permissions::Role;
use dentpro_core::workstation::{OpenOptions, SessionInfo};
use dentpro_core::{CoreError, ErrorCode, Workstation};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;

pub const PASSWORD: &str = "correct-horse-1";
pub const DB_FILE: &str = dentpro_core::store::DB_FILE;

/// A fixed start time, a Monday morning.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

pub fn clock() -> ManualClock {
    ManualClock::new(start_time())
}

pub fn open(dir: &Path, clock: &ManualClock) -> dentpro_core::Result<Workstation> {
    Workstation::open(OpenOptions {
        data_dir: dir.to_path_buf(),
        key_store: KeyStorePreference::File,
        clock: Arc::new(clock.clone()),
    })
}

pub fn setup_input() -> SetupInput {
    SetupInput {
        branch_name: "Test Clinic".into(),
        branch_code: "TST".into(),
        admin_username: "admin".into(),
        admin_display_name: "Adel Admin".into(),
        admin_password: PASSWORD.into(),
        language: Language::En,
    }
}

/// A workstation with its branch set up; returns the admin's session.
pub fn set_up(dir: &Path, clock: &ManualClock) -> (Workstation, SessionInfo) {
    let mut ws = open(dir, clock).expect("open workstation");
    let admin = ws.setup_branch(&setup_input()).expect("setup branch");
    (ws, admin)
}

pub fn new_user(username: &str, role: Role) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("{} ({role})", username),
        role,
        password: PASSWORD.into(),
        language: Language::En,
    }
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

pub fn record_count(ws: &Workstation) -> i64 {
    count(ws.ledger().conn(), "SELECT count(*) FROM records")
}

/// (kind, actor_user_id, actor_role) of the newest record.
pub fn last_record(ws: &Workstation) -> (String, Option<String>, Option<String>) {
    ws.ledger()
        .conn()
        .query_row(
            "SELECT kind, actor_user_id, actor_role FROM records ORDER BY local_index DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// Every row of `table`, as text, sorted.
pub fn table_rows(conn: &Connection, table: &str) -> Vec<String> {
    dentpro_core::audit::dump_projections(conn)
        .unwrap()
        .into_iter()
        .find(|(t, _)| t == table)
        .map(|(_, rows)| rows)
        .unwrap_or_else(|| panic!("{table} is not a projection table"))
}

pub fn assert_code<T: std::fmt::Debug>(result: dentpro_core::Result<T>, code: ErrorCode) -> CoreError {
    match result {
        Ok(v) => panic!("expected {code:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code, code, "unexpected error: {e:?}");
            e
        }
    }
}

/// Copies a (closed) data dir: database, device identity, chain-head anchor.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

pub fn device_id_of(dir: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("device.json")).unwrap()).unwrap();
    v["device_id"].as_str().unwrap().to_owned()
}
