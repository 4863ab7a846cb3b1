//! Accounts: lockout after failed logins, deactivation, password and username rules, the idle
//! auto-lock and first-run setup. Time is a ManualClock moved by hand.

mod common;

use chrono::Duration;
use common::*;
use dentpro_core::accounts::{self, Language};
use dentpro_core::clock::{Clock, ManualClock, format_instant};
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
use dentpro_core::ledger::Ledger;
use dentpro_core::permissions::Role;
use dentpro_core::{ErrorCode, Workstation, store};
use std::sync::Arc;

/// (reason, user_id, failed_attempts, locked_until) of the newest auth.login_failed record.
fn last_failed_login(ws: &Workstation) -> (String, Option<String>, u64, Option<String>) {
    let payload: String = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT CAST(payload AS TEXT) FROM records WHERE kind = 'auth.login_failed' ORDER BY local_index DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
    (
        v["reason"].as_str().unwrap().to_owned(),
        v["user_id"].as_str().map(str::to_owned),
        v["failed_attempts"].as_u64().unwrap(),
        v["locked_until"].as_str().map(str::to_owned),
    )
}

fn kinds_since(ws: &Workstation, after: i64) -> Vec<String> {
    ws.ledger()
        .conn()
        .prepare("SELECT kind FROM records WHERE local_index > ?1 ORDER BY local_index")
        .unwrap()
        .query_map([after], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

struct Desk {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    ws: Workstation,
    admin: dentpro_core::ids::SessionId,
    user_id: dentpro_core::ids::UserId,
}

/// A branch with an admin (signed in) and a receptionist `lena`.
fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let user_id = ws
        .accounts()
        .create_user(&admin.session_id, &new_user("lena", Role::Receptionist))
        .unwrap()
        .id;
    Desk {
        _dir: dir,
        clock,
        ws,
        admin: admin.session_id,
        user_id,
    }
}

#[test]
fn five_failed_logins_lock_the_account_for_fifteen_minutes() {
    let mut d = desk();
    let start = d.clock.now();
    for attempt in 1..=4u64 {
        let before = record_count(&d.ws);
        assert_code(d.ws.login("lena", "wrong-password"), ErrorCode::BadCredentials);
        assert_eq!(record_count(&d.ws), before + 1, "a failed login is a record");
        let (reason, user, attempts, until) = last_failed_login(&d.ws);
        assert_eq!(
            (reason.as_str(), user.as_deref(), attempts, until),
            ("bad_password", Some(d.user_id.as_str()), attempt, None)
        );
        d.clock.advance(Duration::seconds(10));
    }
    let locked_at = d.clock.now();
    let err = assert_code(d.ws.login("lena", "wrong-password"), ErrorCode::AccountLocked);
    let until = format_instant(locked_at + Duration::minutes(15));
    assert_eq!(err.details.get("until"), Some(&until));
    assert_eq!(last_failed_login(&d.ws).2, 5);
    assert_eq!(last_failed_login(&d.ws).3.as_deref(), Some(until.as_str()));
    let lena = accounts::user_by_id(d.ws.ledger().conn(), &d.user_id).unwrap();
    assert_eq!(lena.locked_until.as_deref(), Some(until.as_str()));

    // The 6th attempt, with the right password, is refused and recorded.
    let before = record_count(&d.ws);
    let err = assert_code(d.ws.login("lena", PASSWORD), ErrorCode::AccountLocked);
    assert_eq!(err.details.get("until"), Some(&until));
    assert_eq!(record_count(&d.ws), before + 1);
    assert_eq!(last_failed_login(&d.ws).0, "locked");

    // Still locked a second before the 15 minutes are up.
    d.clock.advance(Duration::minutes(15) - Duration::seconds(1));
    assert_code(d.ws.login("lena", PASSWORD), ErrorCode::AccountLocked);
    d.clock.advance(Duration::seconds(1));
    assert!(d.clock.now() - start >= Duration::minutes(15));
    let session = d.ws.login("lena", PASSWORD).unwrap();
    assert_eq!(session.role, Role::Receptionist);
    let lena = accounts::user_by_id(d.ws.ledger().conn(), &d.user_id).unwrap();
    assert_eq!(lena.locked_until, None);
    let failed: i64 =
        d.ws.ledger()
            .conn()
            .query_row(
                "SELECT failed_attempts FROM users WHERE id = ?1",
                [&d.user_id],
                |r| r.get(0),
            )
            .unwrap();
    assert_eq!(failed, 0, "a successful login clears the count");
}

#[test]
fn an_expired_lockout_starts_a_fresh_count_and_a_reset_lifts_it() {
    let mut d = desk();
    for _ in 0..5 {
        let _ = d.ws.login("lena", "wrong-password");
    }
    assert_code(d.ws.login("lena", PASSWORD), ErrorCode::AccountLocked);
    d.clock.advance(Duration::minutes(16));
    // One more failure after expiry is attempt 1, not 6.
    assert_code(d.ws.login("lena", "wrong-password"), ErrorCode::BadCredentials);
    assert_eq!(last_failed_login(&d.ws).2, 1);
    for _ in 0..4 {
        let _ = d.ws.login("lena", "wrong-password");
    }
    assert_code(d.ws.login("lena", PASSWORD), ErrorCode::AccountLocked);
    // The admin resets the password: the lockout lifts, the old password stops working.
    let admin = d.admin.clone();
    d.ws.unlock(&admin, PASSWORD).unwrap(); // the admin's own session went idle meanwhile
    d.ws.accounts()
        .reset_password(&admin, &d.user_id, "brand-new-pass")
        .unwrap();
    assert_code(d.ws.login("lena", PASSWORD), ErrorCode::BadCredentials);
    d.ws.login("lena", "brand-new-pass").unwrap();
}

#[test]
fn failed_logins_of_unknown_users_are_recorded_too() {
    let mut d = desk();
    let before = record_count(&d.ws);
    assert_code(d.ws.login("mallory", "anything-1"), ErrorCode::BadCredentials);
    assert_eq!(record_count(&d.ws), before + 1);
    let (reason, user, _, _) = last_failed_login(&d.ws);
    assert_eq!((reason.as_str(), user), ("unknown_user", None));
    let (kind, actor, role) = last_record(&d.ws);
    assert_eq!((kind.as_str(), actor, role), ("auth.login_failed", None, None));
    // Usernames are case-insensitive and trimmed.
    d.ws.login("  LENA ", PASSWORD).unwrap();
}

#[test]
fn deactivated_users_cannot_log_in_and_their_sessions_end() {
    let mut d = desk();
    let lena = d.ws.login("lena", PASSWORD).unwrap().session_id;
    let lena2 = d.ws.login("lena", PASSWORD).unwrap().session_id;
    d.ws.patients().search(&lena, "a", 5).unwrap();
    let admin = d.admin.clone();
    let user = d.ws.accounts().deactivate(&admin, &d.user_id).unwrap();
    assert!(!user.active);
    assert_eq!(last_record(&d.ws).0, "user.deactivated");
    for s in [&lena, &lena2] {
        assert_code(d.ws.patients().search(s, "a", 5), ErrorCode::NotLoggedIn);
        assert_code(d.ws.heartbeat(s), ErrorCode::NotLoggedIn);
    }
    assert_code(d.ws.login("lena", PASSWORD), ErrorCode::AccountInactive);
    assert_eq!(last_failed_login(&d.ws).0, "inactive");
    // Deactivating twice changes nothing; nobody is deleted.
    let before = record_count(&d.ws);
    d.ws.accounts().deactivate(&admin, &d.user_id).unwrap();
    assert_eq!(record_count(&d.ws), before);
    assert!(
        d.ws.accounts()
            .list_users(&admin)
            .unwrap()
            .iter()
            .any(|u| u.id == d.user_id && !u.active)
    );
    // Reactivated, she logs in again.
    d.ws.accounts().reactivate(&admin, &d.user_id).unwrap();
    assert_eq!(last_record(&d.ws).0, "user.reactivated");
    d.ws.login("lena", PASSWORD).unwrap();
}

#[test]
fn nobody_deactivates_themselves_or_the_last_admin() {
    let mut d = desk();
    let admin = d.admin.clone();
    let admin_id = d.ws.status(Some(&admin)).unwrap().session.unwrap().user_id;
    let before = record_count(&d.ws);
    let err = assert_code(d.ws.accounts().deactivate(&admin, &admin_id), ErrorCode::Invalid);
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("cannot_deactivate_self")
    );
    assert_eq!(record_count(&d.ws), before);
    d.ws.heartbeat(&admin).unwrap();

    // With a second admin, one admin may deactivate the other.
    let second =
        d.ws.accounts()
            .create_user(&admin, &new_user("second.admin", Role::Admin))
            .unwrap();
    let s2 = d.ws.login("second.admin", PASSWORD).unwrap().session_id;
    d.ws.accounts().deactivate(&s2, &admin_id).unwrap();
    assert_code(d.ws.heartbeat(&admin), ErrorCode::NotLoggedIn);
    d.ws.accounts().reactivate(&s2, &admin_id).unwrap();

    // The last active admin cannot be deactivated, whoever asks (checked where the rule lives:
    // through the facade no one but that admin could ask).
    let first_admin = admin_id.clone();
    d.ws.accounts().deactivate(&s2, &first_admin).unwrap();
    let dir = d.ws.data_dir().to_path_buf();
    drop(d.ws);
    let identity = DeviceIdentity::load_or_create(&dir, KeyStorePreference::File).unwrap();
    let conn = store::open_bound(&dir, &identity).unwrap();
    let mut ledger = Ledger::new(conn, identity, Arc::new(d.clock.clone()), Some(&dir)).unwrap();
    let someone = dentpro_core::test_support::actor(&first_admin, Role::Admin, None);
    let head = ledger.head();
    let err = accounts::deactivate(&mut ledger, &someone, &second.id).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert_eq!(err.details.get("reason").map(String::as_str), Some("last_admin"));
    assert_eq!(ledger.head(), head, "nothing recorded");
}

#[test]
fn every_account_text_is_bounded_and_a_failed_login_records_at_most_64_characters() {
    let mut d = desk();
    let admin = d.admin.clone();
    let before = record_count(&d.ws);
    let mut long = new_user("longtext", Role::Doctor);
    long.password = "p".repeat(dentpro_core::text::PASSWORD_MAX + 1);
    let err = assert_code(d.ws.accounts().create_user(&admin, &long), ErrorCode::Invalid);
    assert_eq!(err.details["field"], "password");
    assert_eq!(err.details["reason"], "too_long");
    assert_eq!(err.details["max"], "256");
    long.password = PASSWORD.into();
    long.display_name = "د".repeat(101);
    let err = assert_code(d.ws.accounts().create_user(&admin, &long), ErrorCode::Invalid);
    assert_eq!(
        (
            err.details["field"].as_str(),
            err.details["reason"].as_str(),
            err.details["max"].as_str()
        ),
        ("display_name", "too_long", "100")
    );
    assert_eq!(record_count(&d.ws), before);
    // What is typed at the login screen goes on the record, so it is bounded there too.
    assert_code(
        d.ws.login(&"m".repeat(1_000_000), "anything-1"),
        ErrorCode::BadCredentials,
    );
    let recorded: String = d
        .ws
        .ledger()
        .conn()
        .query_row(
            "SELECT json_extract(CAST(payload AS TEXT), '$.username') FROM records WHERE kind = 'auth.login_failed' ORDER BY local_index DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded, "m".repeat(64));
}

#[test]
fn passwords_have_at_least_eight_characters() {
    let mut d = desk();
    let admin = d.admin.clone();
    let before = record_count(&d.ws);
    let users_before = table_rows(d.ws.ledger().conn(), "users");
    let mut short = new_user("shorty", Role::Doctor);
    short.password = "seven77".into();
    let err = assert_code(d.ws.accounts().create_user(&admin, &short), ErrorCode::Invalid);
    assert_eq!(err.details.get("field").map(String::as_str), Some("password"));
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("password_too_short")
    );
    let err = assert_code(
        d.ws.accounts().reset_password(&admin, &d.user_id, "1234567"),
        ErrorCode::Invalid,
    );
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("password_too_short")
    );
    assert_eq!(record_count(&d.ws), before);
    assert_eq!(table_rows(d.ws.ledger().conn(), "users"), users_before);
    // Eight characters (any script) are enough.
    short.password = "كلمةسر12".into();
    d.ws.accounts().create_user(&admin, &short).unwrap();
    d.ws.login("shorty", "كلمةسر12").unwrap();
    // Setup enforces it as well.
    let dir = tempfile::tempdir().unwrap();
    let mut ws = open(dir.path(), &d.clock).unwrap();
    let mut input = setup_input();
    input.admin_password = "short".into();
    let err = assert_code(ws.setup_branch(&input), ErrorCode::Invalid);
    assert_eq!(err.details.get("field").map(String::as_str), Some("password"));
    assert_code(ws.login("admin", "short"), ErrorCode::NotSetUp);
}

#[test]
fn usernames_are_unique() {
    let mut d = desk();
    let admin = d.admin.clone();
    let before = record_count(&d.ws);
    for name in ["lena", "LENA", " Lena "] {
        let err = assert_code(
            d.ws.accounts().create_user(&admin, &new_user(name, Role::Doctor)),
            ErrorCode::Conflict,
        );
        assert_eq!(err.details.get("field").map(String::as_str), Some("username"));
    }
    let err = assert_code(
        d.ws.accounts()
            .create_user(&admin, &new_user("admin", Role::Cashier)),
        ErrorCode::Conflict,
    );
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("username_taken")
    );
    for bad in ["ab", "has space", "émile", ""] {
        let err = assert_code(
            d.ws.accounts().create_user(&admin, &new_user(bad, Role::Doctor)),
            ErrorCode::Invalid,
        );
        assert_eq!(err.details.get("field").map(String::as_str), Some("username"));
    }
    assert_eq!(record_count(&d.ws), before);
}

#[test]
fn an_idle_session_locks_and_unlocks_with_the_password() {
    let mut d = desk();
    let lena = d.ws.login("lena", PASSWORD).unwrap();
    assert_eq!(lena.idle_lock_minutes, 10);
    let s = lena.session_id.clone();
    // Activity keeps it open: exactly 10 minutes idle is still fine.
    d.clock.advance(Duration::minutes(10));
    d.ws.patients().search(&s, "a", 5).unwrap();
    d.clock.advance(Duration::minutes(10) + Duration::seconds(1));
    let mark = record_count(&d.ws);
    assert_code(d.ws.patients().search(&s, "a", 5), ErrorCode::SessionLocked);
    assert_code(d.ws.heartbeat(&s), ErrorCode::SessionLocked);
    assert_code(
        d.ws.patients().register(&s, &dentpro_core::demo::demo_patient(1)),
        ErrorCode::SessionLocked,
    );
    assert_code(d.ws.settings().get(&s), ErrorCode::SessionLocked);
    assert_eq!(
        kinds_since(&d.ws, mark),
        ["auth.session_locked"],
        "the lock is recorded once"
    );
    let status = d.ws.status(Some(&s)).unwrap();
    assert!(status.locked);
    // A wrong password keeps it locked; the right one opens it.
    assert_code(d.ws.unlock(&s, "wrong-password"), ErrorCode::BadCredentials);
    assert_code(d.ws.heartbeat(&s), ErrorCode::SessionLocked);
    let info = d.ws.unlock(&s, PASSWORD).unwrap();
    assert_eq!(info.session_id, s);
    assert_eq!(last_record(&d.ws).0, "auth.session_unlocked");
    d.ws.patients().search(&s, "a", 5).unwrap();
    assert!(!d.ws.status(Some(&s)).unwrap().locked);
}

#[test]
fn five_wrong_unlock_passwords_end_the_session() {
    let mut d = desk();
    let s = d.ws.login("lena", PASSWORD).unwrap().session_id;
    d.clock.advance(Duration::minutes(11));
    assert_code(d.ws.heartbeat(&s), ErrorCode::SessionLocked);
    for _ in 0..4 {
        assert_code(d.ws.unlock(&s, "wrong-password"), ErrorCode::BadCredentials);
        assert_code(d.ws.heartbeat(&s), ErrorCode::SessionLocked);
    }
    // The fifth also locks the account (5 failures), and the session is gone.
    assert_code(d.ws.unlock(&s, "wrong-password"), ErrorCode::AccountLocked);
    assert_code(d.ws.heartbeat(&s), ErrorCode::NotLoggedIn);
    assert_code(d.ws.unlock(&s, PASSWORD), ErrorCode::NotLoggedIn);
    let failures: i64 = count(
        d.ws.ledger().conn(),
        &format!("SELECT count(*) FROM records WHERE kind = 'auth.login_failed' AND session_id = '{s}'"),
    );
    assert_eq!(failures, 5, "each wrong unlock is recorded against the session");
}

#[test]
fn the_idle_bound_is_a_setting() {
    let mut d = desk();
    let admin = d.admin.clone();
    let before = record_count(&d.ws);
    for bad in [0, 241] {
        let err = assert_code(
            d.ws.settings().set_idle_lock_minutes(&admin, bad),
            ErrorCode::Invalid,
        );
        assert_eq!(
            err.details.get("field").map(String::as_str),
            Some("idle_lock_minutes")
        );
    }
    assert_eq!(record_count(&d.ws), before);
    assert_eq!(
        d.ws.settings()
            .set_idle_lock_minutes(&admin, 30)
            .unwrap()
            .idle_lock_minutes,
        30
    );
    assert_eq!(last_record(&d.ws).0, "settings.changed");
    let s = d.ws.login("lena", PASSWORD).unwrap();
    assert_eq!(s.idle_lock_minutes, 30);
    d.clock.advance(Duration::minutes(20));
    d.ws.heartbeat(&s.session_id).unwrap();
    d.ws.heartbeat(&admin).unwrap();
    d.clock.advance(Duration::minutes(30));
    d.ws.heartbeat(&s.session_id).unwrap();
    d.clock.advance(Duration::minutes(30) + Duration::seconds(1));
    assert_code(d.ws.heartbeat(&s.session_id), ErrorCode::SessionLocked);
    assert_code(d.ws.heartbeat(&admin), ErrorCode::SessionLocked);
    d.ws.unlock(&admin, PASSWORD).unwrap();
    // Back to a short bound: it applies at once to open sessions.
    d.ws.settings().set_idle_lock_minutes(&admin, 1).unwrap();
    d.clock.advance(Duration::minutes(2));
    assert_code(d.ws.settings().get(&admin), ErrorCode::SessionLocked);
}

#[test]
fn setup_happens_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut ws = open(dir.path(), &clock).unwrap();
    assert!(!ws.status(None).unwrap().setup_done);
    assert_code(ws.login("admin", PASSWORD), ErrorCode::NotSetUp);
    let admin = ws.setup_branch(&setup_input()).unwrap();
    assert_eq!(admin.role, Role::Admin);
    let status = ws.status(Some(&admin.session_id)).unwrap();
    assert!(status.setup_done);
    assert_eq!(status.branch.unwrap().code, "TST");
    let before = record_count(&ws);
    let mut again = setup_input();
    again.admin_username = "other".into();
    assert_code(ws.setup_branch(&again), ErrorCode::AlreadySetUp);
    assert_eq!(record_count(&ws), before);
    // Also after a restart.
    drop(ws);
    let mut ws = open(dir.path(), &clock).unwrap();
    assert_code(ws.setup_branch(&setup_input()), ErrorCode::AlreadySetUp);
    let admin = ws.login("admin", PASSWORD).unwrap();
    assert_eq!(
        ws.set_language(&admin.session_id, Language::Ar).unwrap().language,
        Language::Ar
    );
}

#[test]
fn logout_is_recorded_and_ends_the_session() {
    let mut d = desk();
    let s = d.ws.login("lena", PASSWORD).unwrap().session_id;
    d.ws.logout(&s).unwrap();
    let (kind, user, role) = last_record(&d.ws);
    assert_eq!(
        (kind.as_str(), user.as_deref(), role.as_deref()),
        ("auth.logged_out", Some(d.user_id.as_str()), Some("receptionist"))
    );
    assert_code(d.ws.heartbeat(&s), ErrorCode::NotLoggedIn);
    // Logging out twice is harmless and writes nothing.
    let before = record_count(&d.ws);
    d.ws.logout(&s).unwrap();
    assert_eq!(record_count(&d.ws), before);
    // A restart ends every session.
    let dir = d.ws.data_dir().to_path_buf();
    let admin = d.admin.clone();
    drop(d.ws);
    let mut ws = open(&dir, &d.clock).unwrap();
    assert_code(ws.heartbeat(&admin), ErrorCode::NotLoggedIn);
}
