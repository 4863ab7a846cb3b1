//! Helpers shared by the integration tests: real workstations on real SQLite files in temp
//! dirs, driven through the same facade the desktop shell calls.
#![allow(dead_code)]

pub mod desk;
pub mod guard;

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

/// [`set_up`], then a receptionist "desk" created and signed in; the desk's session.
pub fn set_up_desk(dir: &Path, clock: &ManualClock) -> (Workstation, SessionInfo) {
    let (mut ws, admin) = set_up(dir, clock);
    ws.accounts()
        .create_user(&admin.session_id, &new_user("desk", Role::Receptionist))
        .expect("create the desk");
    let desk = ws.login("desk", PASSWORD).expect("the desk signs in");
    (ws, desk)
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

/// The database key of a data dir, from its device key (as the app derives it).
pub fn db_key(dir: &Path) -> dentpro_core::store::DbKey {
    dentpro_core::device::DeviceIdentity::load_existing(dir)
        .expect("the data dir's device key")
        .database_key()
}

/// A connection to a closed data dir's encrypted database, outside the app.
pub fn open_db(dir: &Path) -> Connection {
    dentpro_core::store::open_keyed(&dir.join(DB_FILE), &db_key(dir)).expect("open the database")
}

pub fn device_id_of(dir: &Path) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("device.json")).unwrap()).unwrap();
    v["device_id"].as_str().unwrap().to_owned()
}

/// Another workstation of the branch, as this one learns of it: through the server's log. Its
/// records are signed by its own key and chained like any device's.
pub struct OtherDesk {
    key: ed25519_dalek::SigningKey,
    pub device_id: String,
    /// (seq, hash) of its last record; `None` before its genesis record.
    head: Option<(u64, [u8; 32])>,
}

impl Default for OtherDesk {
    fn default() -> Self {
        Self::new()
    }
}

impl OtherDesk {
    pub fn new() -> Self {
        use sha2::Digest;
        let seed: [u8; 32] = sha2::Sha256::digest(uuid::Uuid::now_v7().as_bytes()).into();
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let device_id = dentpro_core::record::device_id_for(&key.verifying_key());
        Self {
            key,
            device_id,
            head: None,
        }
    }

    /// Its next records for `event`, as `user_id` (an admin): the genesis record first if it has
    /// none yet.
    pub fn write(
        &mut self,
        user_id: &str,
        event: dentpro_core::kind::Event,
    ) -> Vec<dentpro_core::record::Record> {
        use dentpro_core::record::{GENESIS_PREV_HASH, RecordBody};
        use dentpro_core::{devices::DeviceInitialized, kind::Event};
        let mut out = Vec::new();
        let mut sign = |head: &mut Option<(u64, [u8; 32])>, event: Event, actor: Option<&str>| {
            let (seq, prev_hash) = head.map_or((1, GENESIS_PREV_HASH), |(s, h)| (s + 1, h));
            let record = RecordBody {
                id: uuid::Uuid::now_v7().to_string(),
                device_id: self.device_id.clone(),
                seq,
                prev_hash,
                kind: event.kind().to_owned(),
                kind_version: event.kind_version(),
                actor_user_id: actor.map(str::to_owned),
                actor_role: actor.map(|_| "admin".to_owned()),
                session_id: None,
                business_date: start_time().date_naive().to_string(),
                device_time: dentpro_core::clock::format_instant(start_time()),
                payload: event.payload().unwrap(),
            }
            .sign(&self.key);
            *head = Some((seq, record.hash));
            out.push(record);
        };
        if self.head.is_none() {
            let genesis = DeviceInitialized {
                public_key: hex::encode(self.key.verifying_key().as_bytes()),
                key_storage: "file".into(),
                app_version: "test".into(),
            };
            sign(&mut self.head, genesis.into(), None);
        }
        sign(&mut self.head, event, Some(user_id));
        out
    }
}

/// A patient field's value in the text form edits carry (`sex` as male/female, no national id
/// as "").
pub fn field_text(input: &dentpro_core::patients::PatientInput, field: &str) -> String {
    match &serde_json::to_value(input).unwrap()[field] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => panic!("{field} is {other}"),
    }
}

/// Makes an edit conflict on `ws` the way a pull does after two desks edited one field of a
/// patient offline: `ws` sets `field` to `here` (as `session`) and its records so far reach the
/// server's log first; then `other`'s edit of the same field, from the old value to
/// `elsewhere`, lands after them. That edit no longer applies: it is kept as a conflict.
/// Returns the conflicting record's id.
pub fn make_conflict(
    ws: &mut Workstation,
    session: &dentpro_core::ids::SessionId,
    other: &mut OtherDesk,
    patient_id: &dentpro_core::ids::PatientId,
    field: &str,
    here: &str,
    elsewhere: &str,
) -> dentpro_core::ids::RecordId {
    use dentpro_core::patients::{self, FieldChange, PatientInput, PatientUpdated};
    let before = patients::get(ws.ledger().conn(), patient_id).unwrap().fields;
    let mut edited = serde_json::to_value(&before).unwrap();
    edited[field] = serde_json::Value::String(here.to_owned());
    let edited: PatientInput = serde_json::from_value(edited).unwrap();
    ws.patients().update(session, patient_id, &edited).unwrap();
    let admin: String = ws
        .ledger()
        .conn()
        .query_row("SELECT id FROM users WHERE role = 'admin' LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let theirs = other.write(
        &admin,
        PatientUpdated {
            patient_id: patient_id.clone(),
            changes: vec![FieldChange {
                field: field.to_owned(),
                from: field_text(&before, field),
                to: elsewhere.to_owned(),
            }],
        }
        .into(),
    );
    let conflicting = theirs.last().unwrap().body.id.clone();
    // This workstation's records not yet in the log, then the other desk's: the server's order.
    let mut records = pending_records(ws);
    records.extend(theirs);
    pull_into(ws, &records);
    conflicting.into()
}

/// Another workstation of the branch that enrolled with the branch server (its enrolment saved
/// as the sync client saves it; no server involved): its device id and its records.
pub fn enrolled_device(
    dir: &Path,
    clock: &ManualClock,
    kind: dentpro_core::devices::DeviceKind,
    label: &str,
) -> (dentpro_core::ids::DeviceId, Vec<dentpro_core::record::Record>) {
    let mut ws = open(dir, clock).expect("open the other workstation");
    ws.devices()
        .save_enrolment(&dentpro_core::devices::Enrolment {
            server_url: "https://127.0.0.1:8443".into(),
            certificate_fingerprint: "00".repeat(32),
            server_key: "11".repeat(32),
            branch_name: "Test Clinic".into(),
            device_kind: kind,
            label: label.into(),
            enrolled_at: start_time().to_rfc3339(),
        })
        .expect("save the enrolment");
    let records = ws
        .ledger()
        .conn()
        .prepare("SELECT * FROM records ORDER BY local_index")
        .unwrap()
        .query_map([], dentpro_core::ledger::read_record)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    (ws.device_id().clone(), records)
}

/// The log position of a record the branch server accepted at `log_index`.
pub fn accepted(log_index: u64) -> dentpro_core::sync::LogPosition {
    dentpro_core::sync::LogPosition {
        log_index,
        verdict: dentpro_core::sync::Verdict::Accepted,
        reason: None,
        clock_skew_seconds: None,
        leaf_version: Default::default(),
    }
}

/// `records` as the next entries of the log `ws` pulls from (accepted, from its cursor on).
pub fn logged_next(
    ws: &mut Workstation,
    records: impl IntoIterator<Item = dentpro_core::record::Record>,
) -> Vec<dentpro_core::sync::LoggedRecord> {
    let from = ws.sync().cursor().unwrap();
    records
        .into_iter()
        .enumerate()
        .map(|(i, record)| dentpro_core::sync::LoggedRecord {
            position: accepted(from + i as u64),
            record,
        })
        .collect()
}

/// Brings another device's `records` into `ws` as a pull of the branch server's log would
/// (accepted, at the next log indexes).
pub fn pull_into(
    ws: &mut Workstation,
    records: &[dentpro_core::record::Record],
) -> dentpro_core::sync::PullOutcome {
    let entries = logged_next(ws, records.iter().cloned());
    ws.sync()
        .apply_pulled(&entries)
        .expect("apply the pulled records")
}

/// This workstation's own records that are not in the log yet, in chain order.
pub fn pending_records(ws: &Workstation) -> Vec<dentpro_core::record::Record> {
    ws.ledger()
        .conn()
        .prepare(
            "SELECT r.* FROM records r LEFT JOIN record_log l ON l.local_index = r.local_index
             WHERE r.device_id = ?1 AND l.log_index IS NULL ORDER BY r.seq",
        )
        .unwrap()
        .query_map([ws.device_id()], dentpro_core::ledger::read_record)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// A doctor's profile (for a fresh doctor's account) and a chair, made by `session` (an admin).
pub struct DoctorsFixture {
    pub user_id: dentpro_core::ids::UserId,
    pub doctor_id: dentpro_core::doctors::DoctorId,
    pub licence: String,
    pub chair_id: dentpro_core::doctors::ChairId,
}

pub fn doctors_fixture(
    ws: &mut Workstation,
    session: &dentpro_core::ids::SessionId,
    licence: &str,
) -> DoctorsFixture {
    let username = format!("dr.{}", licence.to_lowercase());
    let user_id = ws
        .accounts()
        .create_user(session, &new_user(&username, Role::Doctor))
        .unwrap()
        .id;
    let doctor_id = ws
        .doctors()
        .register(session, &doctor_input(&user_id, licence))
        .unwrap()
        .id;
    let chair_id = ws
        .doctors()
        .add_chair(session, &chair_input("Chair 1"))
        .unwrap()
        .id;
    DoctorsFixture {
        user_id,
        doctor_id,
        licence: licence.to_owned(),
        chair_id,
    }
}

pub fn doctor_input(user_id: &str, licence: &str) -> dentpro_core::doctors::DoctorInput {
    dentpro_core::doctors::DoctorInput {
        user_id: user_id.into(),
        name_en: "Lina Haddad".into(),
        name_ar: "لينا حداد".into(),
        specialty: dentpro_core::doctors::Specialty::Orthodontics,
        licence: licence.into(),
    }
}

pub fn chair_input(label_en: &str) -> dentpro_core::doctors::ChairInput {
    dentpro_core::doctors::ChairInput {
        label_en: label_en.into(),
        label_ar: "كرسي ١".into(),
    }
}
