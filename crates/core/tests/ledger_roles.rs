//! The ledger enforces roles itself: a record whose actor's role lacks the kind's action is
//! refused and the refusal recorded, whoever calls the ledger. And the app never makes actors
//! outside the authorization step (the test-support constructor is for tests and benches).

mod common;

use common::*;
use dentpro_core::accounts::{Language, UserCreated};
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
use dentpro_core::ledger::Ledger;
use dentpro_core::permissions::{Action, Role};
use dentpro_core::{ErrorCode, store};
use std::sync::Arc;

#[test]
fn a_direct_ledger_call_with_a_receptionist_creating_a_user_is_refused_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    ws.accounts()
        .create_user(&admin.session_id, &new_user("rita", Role::Receptionist))
        .unwrap();
    let rita = ws.login("rita", PASSWORD).unwrap();
    // The authorization step is the only way the app gets an actor: for an action rita holds.
    let actor = ws.authorize(&rita.session_id, Action::PatientSearch).unwrap();
    drop(ws);

    let identity = DeviceIdentity::load_or_create(dir.path(), KeyStorePreference::File).unwrap();
    let conn = store::open_bound(dir.path(), &identity).unwrap();
    let mut ledger = Ledger::new(conn, identity, Arc::new(clock.clone()), Some(dir.path())).unwrap();
    let head = ledger.head();
    let users_before = count(ledger.conn(), "SELECT count(*) FROM users");
    let forged_user = UserCreated {
        user_id: "019a0000-0000-7000-8000-00000000beef".into(),
        username: "mallory".into(),
        display_name: "Mallory".into(),
        role: Role::Admin,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        language: Language::En,
    };
    let err = ledger.append(&actor, forged_user.into()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{err:?}");
    assert_eq!(err.details["action"], "user_create");
    assert_eq!(err.details["role"], "receptionist");

    assert_eq!(
        count(ledger.conn(), "SELECT count(*) FROM users"),
        users_before,
        "no account was created"
    );
    assert_eq!(ledger.head().seq, head.seq + 1, "only the refusal was written");
    let (kind, actor_id, role, payload): (String, Option<String>, Option<String>, String) = ledger
        .conn()
        .query_row(
            "SELECT kind, actor_user_id, actor_role, CAST(payload AS TEXT) FROM records
             ORDER BY local_index DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(kind, "access.denied");
    assert_eq!(actor_id.as_deref(), Some(rita.user_id.as_str()));
    assert_eq!(role.as_deref(), Some("receptionist"));
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["action"], "user_create");
}

#[test]
fn the_device_itself_may_write_no_kind_that_needs_a_role() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (ws, _) = set_up(dir.path(), &clock);
    drop(ws);
    let identity = DeviceIdentity::load_or_create(dir.path(), KeyStorePreference::File).unwrap();
    let conn = store::open_bound(dir.path(), &identity).unwrap();
    let mut ledger = Ledger::new(conn, identity, Arc::new(clock), Some(dir.path())).unwrap();
    let setting = dentpro_core::settings::SettingChanged {
        key: "idle_lock_minutes".into(),
        value: "1".into(),
    };
    let err = ledger
        .append(&dentpro_core::ledger::Actor::system(), setting.into())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert_eq!(
        count(ledger.conn(), "SELECT count(*) FROM settings"),
        0,
        "nothing changed"
    );
}

/// The test-support constructors make actors (and forged records) outside the authorization
/// step: the app's code never names them.
#[test]
fn the_app_never_uses_the_test_support_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut offenders = Vec::new();
    for dir in [
        "src-tauri/src",
        "crates/server/src",
        "crates/sync/src",
        "crates/core/src",
    ] {
        let mut stack = vec![root.join(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("test_support.rs")
                && !path.ends_with("lib.rs")
                && std::fs::read_to_string(&path).unwrap().contains("test_support")
            {
                offenders.push(path.display().to_string());
            }
        }
    }
    assert!(offenders.is_empty(), "app code uses test_support: {offenders:?}");
}
