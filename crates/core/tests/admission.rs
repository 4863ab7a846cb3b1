//! The branch server's copy of the rules (`sync::admit_all`, what `dentpro-server` runs on every
//! push), checked exhaustively: every role × every record kind a user can cause, each pushed as
//! a correctly signed and chained record from a workstation. A record is accepted exactly when
//! the permission matrix lets the actor's role do the record's action; otherwise it is logged as
//! refused, applied nowhere. Plus the rules around the matrix: administering a higher rank, a
//! role claimed falsely, a deactivated or unknown account, a cashier away from their terminal.

mod common;

use common::guard;
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
use dentpro_core::ids::{DeviceId, UserId};
use dentpro_core::ledger::read_record;
use dentpro_core::permissions::{self, Role};
use dentpro_core::record::{Record, RecordBody};
use dentpro_core::registry;
use dentpro_core::store;
use dentpro_core::sync::{self, Admission, Sender, Verdict};
use rusqlite::Connection;
use std::collections::{BTreeMap, HashMap};

/// Kinds no user's action writes, so outside the matrix, and where their rules are tested.
const OUTSIDE_THE_MATRIX: &[(&str, &str)] = &[
    (
        "device.initialized",
        "a chain's genesis: tests/admission.rs genesis_rules",
    ),
    (
        "branch.created",
        "the branch's setup: tests/admission.rs genesis_rules",
    ),
    (
        "device.enrolled",
        "written once at enrolment: crates/server/tests/sync.rs",
    ),
];

struct Branch {
    /// The workstation whose records are pushed (kept open: its data dir holds its key).
    _desk: guard::Branch,
    _server_dir: tempfile::TempDir,
    /// The server's database, holding every record of the workstation below.
    server: Connection,
    device_id: DeviceId,
    key: ed25519_dalek::SigningKey,
    /// The workstation's head as the server holds it: (seq, hash).
    head: (u64, [u8; 32]),
    /// A signed-in account of every role, and one deactivated account: user ids.
    users: HashMap<Role, UserId>,
    retired: UserId,
    /// One record of every kind the workstation's commands write after the base state: the
    /// payloads the matrix re-signs for every role.
    templates: BTreeMap<String, Record>,
}

/// The guard tests' branch (`common::guard`: an account of every role, the cashier bound to
/// this workstation, what each area prepared); the server admits all of it. Then every
/// area's command cases once, as the admin, and the records no command leaves give the
/// templates (not pushed).
fn branch() -> Branch {
    let server_dir = tempfile::tempdir().unwrap();
    let mut desk = guard::Branch::new();
    let device_id = desk.ws.device_id().to_owned();
    let own = |ws: &dentpro_core::Workstation| -> Vec<Record> {
        all_records(ws.ledger().conn())
            .into_iter()
            .filter(|r| r.body.device_id == device_id)
            .collect()
    };
    let base = own(&desk.ws);

    for case in guard::commands() {
        if let Err(e) = desk.run(case, Role::Admin) {
            panic!("the admin's {}: {e:?}", case.name);
        }
    }
    for area in guard::AREAS {
        (area.other_records)(&mut desk);
    }
    let mut templates = BTreeMap::new();
    for record in own(&desk.ws).into_iter().skip(base.len()) {
        templates.entry(record.body.kind.clone()).or_insert(record);
    }

    let identity = DeviceIdentity::load_or_create(desk.dir.path(), KeyStorePreference::File).unwrap();
    let mut server =
        store::open_unbound(&server_dir.path().join("server.sqlite3"), &store::DbKey::random()).unwrap();
    let tx = server.transaction().unwrap();
    let key = identity.verifying_key();
    let (admitted, error) = sync::admit_all(&tx, &sender(&device_id, &key), &base);
    assert!(error.is_none(), "{error:?}");
    for a in &admitted {
        assert_eq!(a.position().verdict, Verdict::Accepted, "{a:?}");
    }
    // The branch's other workstations, to revoke.
    for other in &desk.other_devices {
        let key = DeviceIdentity::load_or_create(other.dir.path(), KeyStorePreference::File)
            .unwrap()
            .verifying_key();
        let (admitted, error) = sync::admit_all(&tx, &sender(&other.device_id, &key), &other.records);
        assert!(error.is_none() && admitted.len() == 2, "{error:?}");
    }
    tx.commit().unwrap();
    let last = base.last().unwrap();
    let users = Role::iter().map(|role| (role, desk.user(role))).collect();
    let retired = desk.fixture::<guard::accounts::Retired>().0.clone();
    Branch {
        _server_dir: server_dir,
        server,
        device_id,
        key: identity.signing_key().clone(),
        head: (last.body.seq, last.hash),
        users,
        retired,
        templates,
        _desk: desk,
    }
}

fn all_records(conn: &Connection) -> Vec<Record> {
    let mut stmt = conn
        .prepare("SELECT * FROM records ORDER BY local_index")
        .unwrap();
    stmt.query_map([], read_record)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn sender<'a>(device_id: &'a str, key: &'a ed25519_dalek::VerifyingKey) -> Sender<'a> {
    Sender {
        device_id,
        public_key: key,
        clock_skew_seconds: None,
    }
}

impl Branch {
    /// `template` re-signed as the workstation's next record, by `user_id` claiming `role`.
    fn forge(&self, template: &Record, user_id: &str, role: &str, payload: Option<Vec<u8>>) -> Record {
        let t = &template.body;
        RecordBody {
            id: uuid::Uuid::now_v7().to_string(),
            device_id: self.device_id.to_string(),
            seq: self.head.0 + 1,
            prev_hash: self.head.1,
            kind: t.kind.clone(),
            kind_version: t.kind_version,
            actor_user_id: Some(user_id.to_owned()),
            actor_role: Some(role.to_owned()),
            session_id: t.session_id.clone(),
            business_date: t.business_date.clone(),
            device_time: t.device_time.clone(),
            payload: payload.unwrap_or_else(|| t.payload.clone()),
        }
        .sign(&self.key)
    }

    /// Pushes `record` to the server and undoes it: the verdict and the refusal reason.
    fn admit(&mut self, record: &Record) -> (Verdict, Option<String>) {
        let tx = self.server.transaction().unwrap();
        let key = self.key.verifying_key();
        let (admitted, error) =
            sync::admit_all(&tx, &sender(&self.device_id, &key), std::slice::from_ref(record));
        assert!(
            error.is_none(),
            "{} was not even logged: {error:?}",
            record.body.kind
        );
        let Admission::Logged(position) = &admitted[0] else {
            panic!("{} was already logged", record.body.kind);
        };
        let verdict = (position.verdict, position.reason.clone());
        drop(tx); // rolls back: every case starts from the same server state
        verdict
    }

    fn template(&self, kind: &str) -> &Record {
        self.templates.get(kind).unwrap_or_else(|| {
            panic!("no template for {kind}: a case in tests/common/guard/<area>.rs writes one")
        })
    }
}

#[test]
fn every_kind_a_user_can_cause_is_in_the_matrix() {
    let b = branch();
    for kind in registry::KINDS.iter().map(|k| &k.kind) {
        let outside = OUTSIDE_THE_MATRIX.iter().any(|(k, _)| k == kind);
        assert!(
            outside || b.templates.contains_key(*kind),
            "record kind {kind} has no template: add the command that writes it to its area's tests/common/guard/<area>.rs"
        );
    }
}

#[test]
fn every_role_times_every_kind_is_accepted_exactly_as_the_matrix_says() {
    let mut b = branch();
    let kinds: Vec<String> = b.templates.keys().cloned().collect();
    let mut checked = 0;
    for kind in &kinds {
        let template = b.template(kind).clone();
        let event = registry::decode(kind, template.body.kind_version, &template.body.payload).unwrap();
        for role in Role::iter() {
            let user = b.users[&role].clone();
            let record = b.forge(&template, &user, role.as_str(), None);
            let (verdict, reason) = b.admit(&record);
            let allowed = event
                .required_action()
                .is_none_or(|a| permissions::allows(role, a));
            if allowed {
                assert_eq!(verdict, Verdict::Accepted, "{role} {kind}: {reason:?}");
            } else {
                assert_eq!(verdict, Verdict::Refused, "{role} {kind} was accepted");
                let reason = reason.unwrap();
                assert!(reason.starts_with("forbidden:"), "{role} {kind}: {reason}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 6 * 15, "only {checked} cases");
}

#[test]
fn the_rules_around_the_matrix() {
    let mut b = branch();
    let users = b.users.clone();
    let create = b.template("user.created").clone();
    let edit = b.template("patient.updated").clone();

    // A manager may create staff, not an admin or another manager.
    for (target, accepted) in [("receptionist", true), ("manager", false), ("admin", false)] {
        let payload = String::from_utf8(create.body.payload.clone())
            .unwrap()
            .replace("\"role\":\"receptionist\"", &format!("\"role\":\"{target}\""));
        let record = b.forge(
            &create,
            &users[&Role::Manager],
            "manager",
            Some(payload.into_bytes()),
        );
        let (verdict, reason) = b.admit(&record);
        assert_eq!(
            verdict == Verdict::Accepted,
            accepted,
            "manager creates {target}: {reason:?}"
        );
        if !accepted {
            assert!(reason.unwrap().contains("may not administer"));
        }
    }

    let cases: [(&str, &str, &str); 4] = [
        // A doctor's account claiming to be the admin.
        (&users[&Role::Doctor], "admin", "role_mismatch"),
        // A deactivated account.
        (&b.retired.clone(), "receptionist", "user_inactive"),
        // An account the branch never had.
        ("019a0000-0000-7000-8000-00000000dead", "doctor", "unknown_user"),
        // A role that does not exist.
        (&users[&Role::Doctor], "dentist", "role_mismatch"),
    ];
    for (user, role, expected) in cases {
        let record = b.forge(&edit, user, role, None);
        let (verdict, reason) = b.admit(&record);
        assert_eq!(verdict, Verdict::Refused, "{user} as {role}");
        assert!(reason.as_deref().unwrap().starts_with(expected), "{reason:?}");
    }
}

#[test]
fn a_cashier_works_only_at_their_terminals() {
    let mut b = branch();
    let cashier = b.users[&Role::Cashier].clone();
    let login = b.template("auth.login_succeeded").clone();
    assert_eq!(
        b.admit(&b.forge(&login, &cashier, "cashier", None)).0,
        Verdict::Accepted
    );
    // The same cashier's record from this workstation once it is no longer their terminal.
    let admin = b.users[&Role::Admin].clone();
    let unbind = b.template("cashier.terminals_set").clone();
    let unbinding = format!("{{\"device_ids\":[],\"user_id\":\"{cashier}\"}}");
    let record = b.forge(&unbind, &admin, "admin", Some(unbinding.into_bytes()));
    let tx = b.server.transaction().unwrap();
    let key = b.key.verifying_key();
    let (admitted, error) = sync::admit_all(&tx, &sender(&b.device_id, &key), std::slice::from_ref(&record));
    assert!(error.is_none());
    assert_eq!(admitted[0].position().verdict, Verdict::Accepted);
    tx.commit().unwrap();
    b.head = (record.body.seq, record.hash);
    let (verdict, reason) = b.admit(&b.forge(&login, &cashier, "cashier", None));
    assert_eq!(verdict, Verdict::Refused);
    assert!(reason.unwrap().starts_with("cashier_terminal_not_bound"));
}

#[test]
fn genesis_rules() {
    let mut b = branch();
    // A second genesis record, and a second branch.
    for kind in ["device.initialized", "branch.created"] {
        let conn = &b.server;
        let template: Record = conn
            .query_row(
                "SELECT * FROM records WHERE kind = ?1 LIMIT 1",
                [kind],
                read_record,
            )
            .unwrap();
        let admin = b.users[&Role::Admin].clone();
        let (verdict, reason) = b.admit(&b.forge(&template, &admin, "admin", None));
        assert_eq!(verdict, Verdict::Refused, "{kind}");
        let reason = reason.unwrap();
        assert!(
            reason.starts_with("genesis") || reason.starts_with("setup"),
            "{kind}: {reason}"
        );
    }
}

#[test]
fn a_revocation_names_another_enrolled_device_and_applies_once() {
    let mut b = branch();
    let admin = b.users[&Role::Admin].clone();
    let revoke = b.template("device.revoked").clone();
    let payload: serde_json::Value = serde_json::from_slice(&revoke.body.payload).unwrap();
    let chair = payload["device_id"].as_str().unwrap().to_owned();
    let naming = |id: &str| Some(format!("{{\"device_id\":\"{id}\",\"reason\":\"stolen\"}}").into_bytes());
    // A workstation revoking itself, and a device the log never saw enrol.
    let own = b.device_id.clone();
    for (target, expected) in [
        (own.as_str(), "self_revocation"),
        (&"ab".repeat(16), "unknown_device"),
    ] {
        let (verdict, reason) = b.admit(&b.forge(&revoke, &admin, "admin", naming(target)));
        assert_eq!(verdict, Verdict::Refused, "{target}");
        assert!(reason.as_deref().unwrap().starts_with(expected), "{reason:?}");
    }
    // The first revocation of the chair is accepted (and kept); a second one does not apply.
    let first = b.forge(&revoke, &admin, "admin", naming(&chair));
    let tx = b.server.transaction().unwrap();
    let key = b.key.verifying_key();
    let (admitted, error) = sync::admit_all(&tx, &sender(&b.device_id, &key), std::slice::from_ref(&first));
    assert!(error.is_none());
    assert_eq!(admitted[0].position().verdict, Verdict::Accepted);
    tx.commit().unwrap();
    b.head = (first.body.seq, first.hash);
    let revoked = dentpro_core::devices::branch_devices(&b.server).unwrap();
    let chair_row = revoked.iter().find(|d| d.device_id == chair.as_str()).unwrap();
    assert_eq!(chair_row.revoked.as_ref().unwrap().reason, "stolen");
    assert_eq!(
        chair_row.revoked.as_ref().unwrap().by_user_id.as_deref(),
        Some(admin.as_str())
    );
    let (verdict, reason) = b.admit(&b.forge(&revoke, &admin, "admin", naming(&chair)));
    assert_eq!(verdict, Verdict::Refused);
    assert!(
        reason.as_deref().unwrap().contains("already revoked"),
        "{reason:?}"
    );
}
