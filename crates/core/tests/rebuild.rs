//! Tables are projections of the records: rebuilding them from the records alone gives exactly
//! the live tables, whatever happened (registrations, edits, logins, lockouts, resets,
//! deactivations, setting changes).

mod common;

use chrono::Duration;
use common::*;
use dentpro_core::accounts::Language;
use dentpro_core::audit;
use dentpro_core::clock::ManualClock;
use dentpro_core::demo::{self, DEMO_PASSWORD, demo_patient};
use dentpro_core::ids::{PatientId, SessionId, UserId};
use dentpro_core::patients::{PatientInput, Sex};
use dentpro_core::permissions::Role;
use dentpro_core::{ErrorCode, Workstation};
use proptest::prelude::*;

fn assert_rebuild_matches(ws: &Workstation) {
    let conn = ws.ledger().conn();
    let live = audit::dump_projections(conn).unwrap();
    let rebuilt = audit::dump_projections(&audit::rebuild(conn).unwrap()).unwrap();
    assert_eq!(live.len(), dentpro_core::registry::projection_tables().len());
    for ((table, live_rows), (_, fresh_rows)) in live.iter().zip(&rebuilt) {
        assert_eq!(live_rows.len(), fresh_rows.len(), "row count of {table}");
        assert_eq!(live_rows, fresh_rows, "table {table}");
    }
    assert_eq!(audit::compare_projections(conn).unwrap(), None);
}

fn assert_chain_ok(ws: &Workstation) {
    let conn = ws.ledger().conn();
    let report = audit::verify(conn, Some(ws.data_dir()), Some(ws.device_id())).unwrap();
    assert!(report.ok, "{report:?}");
    let seqs: Vec<i64> = conn
        .prepare("SELECT seq FROM records ORDER BY local_index")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "seq contiguous from 1"
    );
    assert_eq!(ws.ledger().head().seq, seqs.len() as u64);
}

#[test]
fn a_busy_demo_branch_rebuilds_identically() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut ws = open(dir.path(), &clock).unwrap();
    demo::populate(&mut ws, 150).unwrap();
    let admin = ws.login("admin", DEMO_PASSWORD).unwrap().session_id;
    let desk = ws.login("reception", DEMO_PASSWORD).unwrap().session_id;
    let doctor = ws.login("doctor", DEMO_PASSWORD).unwrap().session_id;

    // Edits and views.
    let hits = ws.patients().search(&desk, "a", 40).unwrap();
    assert!(hits.len() >= 20);
    for (i, hit) in hits.iter().enumerate().take(20) {
        let mut input = dentpro_core::patients::get(ws.ledger().conn(), &hit.id)
            .unwrap()
            .fields;
        input.allergies = format!("Allergy {i}");
        input.name_ar = format!("{} {}", input.name_ar, "الثاني");
        if i % 2 == 0 {
            input.national_id = None;
        } else {
            input.national_id = Some(format!("X{i:06}"));
        }
        ws.patients().update(&doctor, &hit.id, &input).unwrap();
        ws.patients().open(&doctor, &hit.id).unwrap();
    }
    // Failed logins, an unknown user, a lockout, a login refused while locked.
    let cashier_id = dentpro_core::accounts::user_by_username(ws.ledger().conn(), "cashier")
        .unwrap()
        .unwrap()
        .id;
    assert_code(ws.login("nobody", "whatever-1"), ErrorCode::BadCredentials);
    for _ in 0..4 {
        assert_code(ws.login("cashier", "wrong-pass-1"), ErrorCode::BadCredentials);
    }
    assert_code(ws.login("cashier", "wrong-pass-1"), ErrorCode::AccountLocked);
    assert_code(ws.login("cashier", DEMO_PASSWORD), ErrorCode::AccountLocked);
    // A reset lifts the lockout; the cashier logs in with the new password.
    ws.accounts()
        .reset_password(&admin, &cashier_id, "new-cash-pass")
        .unwrap();
    let cashier = ws.login("cashier", "new-cash-pass").unwrap().session_id;
    // A denied attempt, a setting change, a language change.
    assert_code(ws.patients().open(&cashier, &hits[0].id), ErrorCode::Forbidden);
    ws.settings().set_idle_lock_minutes(&admin, 25).unwrap();
    ws.set_language(&desk, Language::Ar).unwrap();
    // Another lockout that expires, then a fresh count.
    for _ in 0..5 {
        let _ = ws.login("assistant", "wrong-pass-1");
    }
    clock.advance(Duration::minutes(26)); // past the lockout and the 25-minute idle lock
    assert_code(ws.heartbeat(&admin), ErrorCode::SessionLocked);
    ws.unlock(&admin, DEMO_PASSWORD).unwrap();
    assert_code(ws.login("assistant", "wrong-pass-1"), ErrorCode::BadCredentials);
    let assistant = ws.login("assistant", DEMO_PASSWORD).unwrap().session_id;
    // Deactivation, reactivation, a new user.
    let doctor_id = dentpro_core::accounts::user_by_username(ws.ledger().conn(), "doctor")
        .unwrap()
        .unwrap()
        .id;
    ws.accounts().deactivate(&admin, &doctor_id).unwrap();
    assert_code(ws.login("doctor", DEMO_PASSWORD), ErrorCode::AccountInactive);
    ws.accounts().reactivate(&admin, &doctor_id).unwrap();
    ws.accounts()
        .create_user(&admin, &new_user("nurse", Role::Assistant))
        .unwrap();
    ws.logout(&assistant).unwrap();
    ws.audit().verify(&admin).unwrap();

    assert_rebuild_matches(&ws);
    assert_chain_ok(&ws);
    let users = table_rows(ws.ledger().conn(), "users");
    assert_eq!(users.len(), 1 + demo::DEMO_USERS.len() + 1);
    assert_eq!(table_rows(ws.ledger().conn(), "patients").len(), 150);

    // After a restart the database still rebuilds to the same tables.
    let live = audit::dump_projections(ws.ledger().conn()).unwrap();
    drop(ws);
    let ws = open(dir.path(), &clock).unwrap();
    assert_eq!(audit::dump_projections(ws.ledger().conn()).unwrap(), live);
    assert_rebuild_matches(&ws);
}

// ---- random sequences ----

#[derive(Debug, Clone)]
enum Op {
    Register(usize),
    Edit {
        patient: usize,
        field: usize,
        value: usize,
    },
    Open(usize),
    FailedLogin {
        user: usize,
    },
    UnknownUserLogin,
    Login {
        user: usize,
    },
    CreateUser {
        role: usize,
    },
    Deactivate {
        user: usize,
    },
    Reactivate {
        user: usize,
    },
    Advance {
        minutes: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..10_000).prop_map(Op::Register),
        5 => (0usize..100, 0usize..8, 0usize..1000).prop_map(|(patient, field, value)| Op::Edit { patient, field, value }),
        1 => (0usize..100).prop_map(Op::Open),
        2 => (0usize..10).prop_map(|user| Op::FailedLogin { user }),
        1 => Just(Op::UnknownUserLogin),
        2 => (0usize..10).prop_map(|user| Op::Login { user }),
        2 => (0usize..5).prop_map(|role| Op::CreateUser { role }),
        1 => (0usize..10).prop_map(|user| Op::Deactivate { user }),
        1 => (0usize..10).prop_map(|user| Op::Reactivate { user }),
        1 => (1i64..20).prop_map(|minutes| Op::Advance { minutes }),
    ]
}

const NAMES_AR: &[&str] = &["أحمد", "سارة", "إيمان", "فاطمة", "مُحَمَّد", "علي"];

fn edit(input: &mut PatientInput, field: usize, value: usize) {
    match field {
        0 => input.name_en = format!("Name{value} Family{}", value % 7),
        1 => {
            input.name_ar = format!(
                "{} {}",
                NAMES_AR[value % NAMES_AR.len()],
                NAMES_AR[(value / 7) % NAMES_AR.len()]
            )
        }
        2 => input.phone = format!("+9627{:08}", value * 7919),
        3 => {
            input.allergies = if value.is_multiple_of(2) {
                String::new()
            } else {
                format!("Allergy {value}")
            }
        }
        4 => input.national_id = (!value.is_multiple_of(3)).then(|| format!("ID{value:06}")),
        5 => input.date_of_birth = format!("{}-0{}-1{}", 1950 + value % 70, 1 + value % 9, value % 10),
        6 => {
            input.sex = if value.is_multiple_of(2) {
                Sex::Male
            } else {
                Sex::Female
            }
        }
        _ => input.address = format!("{value} Street"),
    }
}

struct World {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    ws: Workstation,
    admin: SessionId,
    users: Vec<(String, UserId)>, // (username, id)
    patients: Vec<PatientId>,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock();
        let (ws, admin) = set_up(dir.path(), &clock);
        let users = vec![("admin".to_owned(), admin.user_id.clone())];
        Self {
            _dir: dir,
            clock,
            ws,
            admin: admin.session_id,
            users,
            patients: Vec::new(),
        }
    }

    /// The admin stays at the desk: an idle lock is undone with the password.
    fn admin(&mut self) -> SessionId {
        if let Err(e) = self.ws.heartbeat(&self.admin) {
            assert_eq!(e.code, ErrorCode::SessionLocked);
            self.ws.unlock(&self.admin, PASSWORD).unwrap();
        }
        self.admin.clone()
    }

    fn apply(&mut self, op: &Op) {
        let admin = self.admin();
        let ok_or = |r: dentpro_core::Result<()>, allowed: &[ErrorCode]| {
            if let Err(e) = r {
                assert!(allowed.contains(&e.code), "{op:?}: unexpected {e:?}");
            }
        };
        match *op {
            Op::Register(i) => {
                let p = self.ws.patients().register(&admin, &demo_patient(i)).unwrap();
                self.patients.push(p.id);
            }
            Op::Edit {
                patient,
                field,
                value,
            } if !self.patients.is_empty() => {
                let id = self.patients[patient % self.patients.len()].clone();
                let mut input = dentpro_core::patients::get(self.ws.ledger().conn(), &id)
                    .unwrap()
                    .fields;
                edit(&mut input, field, value);
                // A generated date may not exist (e.g. 02-30): refused as invalid, no change.
                ok_or(
                    self.ws.patients().update(&admin, &id, &input).map(drop),
                    &[ErrorCode::Invalid],
                );
            }
            Op::Open(patient) if !self.patients.is_empty() => {
                let id = self.patients[patient % self.patients.len()].clone();
                self.ws.patients().open(&admin, &id).unwrap();
            }
            Op::FailedLogin { user } => {
                let name = self.users[user % self.users.len()].0.clone();
                if name == "admin" {
                    return; // keep the admin able to unlock
                }
                let r = self.ws.login(&name, "wrong-password").map(drop);
                ok_or(
                    r,
                    &[
                        ErrorCode::BadCredentials,
                        ErrorCode::AccountLocked,
                        ErrorCode::AccountInactive,
                    ],
                );
            }
            Op::UnknownUserLogin => {
                assert_code(
                    self.ws.login("ghost.user", "wrong-password"),
                    ErrorCode::BadCredentials,
                );
            }
            Op::Login { user } => {
                let name = self.users[user % self.users.len()].0.clone();
                let r = self.ws.login(&name, PASSWORD).map(drop);
                ok_or(r, &[ErrorCode::AccountLocked, ErrorCode::AccountInactive]);
            }
            Op::CreateUser { role } => {
                let role = [
                    Role::Manager,
                    Role::Receptionist,
                    Role::Assistant,
                    Role::Doctor,
                    Role::Cashier,
                ][role];
                let name = format!("user{}", self.users.len());
                let u = self
                    .ws
                    .accounts()
                    .create_user(&admin, &new_user(&name, role))
                    .unwrap();
                self.users.push((name, u.id));
            }
            Op::Deactivate { user } => {
                let id = self.users[user % self.users.len()].1.clone();
                let r = self.ws.accounts().deactivate(&admin, &id).map(drop);
                ok_or(r, &[ErrorCode::Invalid]); // the admin themselves
            }
            Op::Reactivate { user } => {
                let id = self.users[user % self.users.len()].1.clone();
                self.ws.accounts().reactivate(&admin, &id).unwrap();
            }
            Op::Advance { minutes } => self.clock.advance(Duration::minutes(minutes)),
            Op::Edit { .. } | Op::Open(_) => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_rebuild_identically(ops in proptest::collection::vec(op(), 1..30)) {
        let mut world = World::new();
        for op in &ops {
            world.apply(op);
        }
        assert_rebuild_matches(&world.ws);
        assert_chain_ok(&world.ws);
        prop_assert_eq!(table_rows(world.ws.ledger().conn(), "patients").len(), world.patients.len());
        prop_assert_eq!(table_rows(world.ws.ledger().conn(), "users").len(), world.users.len());
    }
}

/// Every table of the workstation's schema is either the kernel's or declared by a record
/// kind, so a new table that no kind declares cannot escape rebuild and verification; and no
/// kind declares a table the schema lacks.
#[test]
fn every_projection_table_of_the_schema_is_declared_by_a_kind() {
    let conn = dentpro_core::store::open_in_memory().unwrap();
    // `PRAGMA table_list` names FTS5's own shadow tables as such: they belong to their index.
    let mut stmt = conn
        .prepare(
            "SELECT name FROM pragma_table_list WHERE schema = 'main'
             AND type IN ('table', 'virtual') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap();
    let schema: std::collections::BTreeSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let kernel: std::collections::BTreeSet<String> = dentpro_core::store::KERNEL_TABLES
        .iter()
        .map(|t| t.to_string())
        .collect();
    let declared: std::collections::BTreeSet<String> = dentpro_core::registry::projection_tables()
        .into_iter()
        .map(str::to_owned)
        .collect();
    let projections: std::collections::BTreeSet<String> = schema.difference(&kernel).cloned().collect();
    assert_eq!(
        projections, declared,
        "tables of the schema (minus the kernel's) vs the tables the record kinds declare"
    );
}
