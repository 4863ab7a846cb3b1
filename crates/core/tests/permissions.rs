//! Every role × every command that acts for a user: allowed or refused exactly as the
//! permission matrix says, and every refusal is an `access.denied` record that changes nothing.

mod common;

use common::guard::{self, Branch, CommandCase};
use common::*;
use dentpro_core::accounts::Language;
use dentpro_core::audit::AuditFilter;
use dentpro_core::demo::demo_patient;
use dentpro_core::ids::{DeviceId, RecordId, SessionId, UserId};
use dentpro_core::patients::ConflictDecision;
use dentpro_core::permissions::{self, Action, Role};
use dentpro_core::registry;
use dentpro_core::{ErrorCode, Workstation};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// One branch shared by the tests of this file (every account costs an argon2id hash, which is
/// slow in a debug build); each test takes it in turn.
fn shared() -> MutexGuard<'static, Branch> {
    static BRANCH: OnceLock<Mutex<Branch>> = OnceLock::new();
    BRANCH
        .get_or_init(|| Mutex::new(Branch::new()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What must not move when a command is refused: every projection table (a refusal's
/// `access.denied` writes none).
fn snapshot(ws: &Workstation) -> Vec<(String, Vec<String>)> {
    dentpro_core::audit::dump_projections(ws.ledger().conn()).unwrap()
}

/// Asserts one call: allowed, or refused with a single `access.denied` record and no change.
fn check(b: &mut Branch, role: Role, case: &CommandCase, allowed: bool) {
    let name = case.name;
    let session = b.sessions[&role].clone();
    let before = snapshot(&b.ws);
    let records_before = record_count(&b.ws);
    let result = b.run(case, role);
    if allowed {
        if let Err(e) = &result {
            panic!("{role} should be allowed to {name}, got {e:?}");
        }
        if let Some(kind) = case.writes {
            let (last_kind, user, last_role) = last_record(&b.ws);
            assert_eq!(last_kind, kind, "{role} {name}");
            assert_eq!(user.as_deref(), Some(session.user_id.as_str()));
            assert_eq!(last_role.as_deref(), Some(role.as_str()));
        } else {
            assert_eq!(record_count(&b.ws), records_before, "{role} {name} only reads");
        }
    } else {
        let err = assert_code(result, ErrorCode::Forbidden);
        assert_eq!(err.details.get("role").map(String::as_str), Some(role.as_str()));
        assert!(
            snapshot(&b.ws) == before,
            "{role} {name} was refused but changed a table"
        );
        assert_eq!(
            record_count(&b.ws),
            records_before + 1,
            "{role} {name}: exactly one new record"
        );
        let (kind, user, last_role) = last_record(&b.ws);
        assert_eq!(kind, "access.denied", "{role} {name}");
        assert_eq!(user.as_deref(), Some(session.user_id.as_str()));
        assert_eq!(last_role.as_deref(), Some(role.as_str()));
        let action = case.action.unwrap().as_str();
        let payload: String =
            b.ws.ledger()
                .conn()
                .query_row(
                    "SELECT CAST(payload AS TEXT) FROM records ORDER BY local_index DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
        assert!(payload.contains(&format!("\"action\":\"{action}\"")), "{payload}");
    }
}

#[test]
fn every_role_times_every_command_follows_the_matrix() {
    let mut b = shared();
    for role in Role::iter() {
        for case in guard::commands() {
            check(&mut b, role, case, case.allowed(role));
        }
    }
    // The refusals and the allowed calls together leave a chain that verifies.
    let report = dentpro_core::audit::verify(
        b.ws.ledger().conn(),
        Some(b.ws.data_dir()),
        Some(b.ws.device_id()),
    )
    .unwrap();
    assert!(report.ok, "{report:?}");
}

/// The matrix above only covers what the areas give cases for: every action, every kind a
/// user's action writes, and every method of an area's handle that acts for a session must
/// have one (in `tests/common/guard/<area>.rs`).
#[test]
fn every_action_kind_and_handle_method_has_a_case() {
    for action in Action::iter() {
        assert!(
            guard::commands().any(|c| c.action == Some(action)),
            "no command case checks {action:?}: add one to its area's tests/common/guard/<area>.rs"
        );
    }
    for entry in registry::KINDS.iter().filter(|k| k.action.is_some()) {
        assert!(
            guard::commands().any(|c| c.writes == Some(entry.kind)),
            "no command case writes {}: add one to its area's tests/common/guard/<area>.rs",
            entry.kind
        );
    }
    for area in guard::AREAS {
        let methods = guard::facade_commands(area.name);
        assert!(!methods.is_empty(), "{}/facade.rs has commands", area.name);
        for method in methods {
            let name = format!("{}.{method}", area.name);
            assert!(
                guard::commands().any(|c| c.name == name),
                "no command case {name}: add one to tests/common/guard/{}.rs",
                area.name
            );
        }
    }
}

/// Written out by hand, so a wrong matrix fails too, not only a wrong gate.
const EXPLICIT: &[(Role, &str, bool)] = &[
    (Role::Cashier, "patients.open", false),
    (Role::Cashier, "patients.update", false),
    (Role::Cashier, "patients.register", false),
    (Role::Cashier, "patients.search", true),
    (Role::Doctor, "accounts.create_user", false),
    (Role::Doctor, "accounts.list_users", false),
    (Role::Doctor, "patients.open", true),
    (Role::Doctor, "patients.update", true),
    (Role::Doctor, "patients.register", false),
    (Role::Assistant, "patients.update", true),
    (Role::Assistant, "audit.verify", false),
    (Role::Receptionist, "audit.trail", false),
    (Role::Receptionist, "patients.register", true),
    (Role::Receptionist, "accounts.reset_password", false),
    (Role::Manager, "patients.register", false),
    (Role::Manager, "patients.update", false),
    (Role::Manager, "audit.trail", true),
    (Role::Manager, "audit.verify", true),
    (Role::Manager, "audit.report", true),
    (Role::Doctor, "audit.report", false),
    (Role::Manager, "audit.read_document", true),
    (Role::Receptionist, "audit.read_document", false),
    (Role::Manager, "accounts.create_user", true),
    (Role::Manager, "settings.set_idle_lock_minutes", false),
    (Role::Admin, "settings.set_idle_lock_minutes", true),
    (Role::Admin, "patients.register", true),
    (Role::Cashier, "session.heartbeat", true),
    (Role::Doctor, "settings.get", true),
    (Role::Receptionist, "session.set_language", true),
    (Role::Admin, "devices.may_enrol", true),
    (Role::Manager, "devices.may_enrol", false),
    (Role::Manager, "devices.branch_devices", true),
    (Role::Doctor, "devices.branch_devices", false),
    (Role::Admin, "devices.revoke", true),
    (Role::Manager, "devices.revoke", false),
    (Role::Manager, "patients.resolve_conflict", false),
    (Role::Cashier, "patients.resolve_conflict", false),
    (Role::Receptionist, "patients.resolve_conflict", true),
    (Role::Doctor, "patients.resolve_conflict", true),
    (Role::Cashier, "doctors.list", false),
    (Role::Cashier, "doctors.chairs", false),
    (Role::Receptionist, "doctors.list", true),
    (Role::Assistant, "doctors.get", true),
    (Role::Doctor, "doctors.availability", true),
    (Role::Receptionist, "doctors.register", false),
    (Role::Doctor, "doctors.set_hours", false),
    (Role::Doctor, "doctors.add_leave", false),
    (Role::Manager, "doctors.register", true),
    (Role::Manager, "doctors.cancel_leave", true),
    (Role::Admin, "doctors.update", true),
    (Role::Manager, "doctors.add_chair", true),
    (Role::Assistant, "doctors.add_chair", false),
    (Role::Receptionist, "doctors.update_chair", false),
];

#[test]
fn explicit_expectations_agree_with_the_matrix_and_the_gate() {
    for (role, name, allowed) in EXPLICIT {
        assert_eq!(
            guard::case(name).allowed(*role),
            *allowed,
            "matrix: {role} {name}"
        );
    }
    // Only the admin edits settings; only admin and manager administer staff.
    for role in Role::iter() {
        let admin_like = matches!(role, Role::Admin | Role::Manager);
        assert_eq!(
            permissions::allows(role, Action::SettingsEdit),
            role == Role::Admin
        );
        for a in [
            Action::UserList,
            Action::UserCreate,
            Action::UserResetPassword,
            Action::UserDeactivate,
        ] {
            assert_eq!(permissions::allows(role, a), admin_like, "{role} {a:?}");
        }
        assert_eq!(permissions::allows(role, Action::AuditView), admin_like);
        assert!(permissions::allows(role, Action::PatientSearch));
    }
    let mut b = shared();
    for (role, name, allowed) in EXPLICIT {
        check(&mut b, *role, guard::case(name), *allowed);
    }
}

#[test]
fn only_an_admin_creates_admins_and_managers() {
    let mut b = shared();
    let manager = b.sessions[&Role::Manager].session_id.clone();
    let admin = b.sessions[&Role::Admin].session_id.clone();
    for (target, name) in [(Role::Admin, "boss2"), (Role::Manager, "mgr2")] {
        assert!(!permissions::may_administer(Role::Manager, target));
        let users_before = table_rows(b.ws.ledger().conn(), "users");
        let records_before = record_count(&b.ws);
        let err = assert_code(
            b.ws.accounts().create_user(&manager, &new_user(name, target)),
            ErrorCode::Forbidden,
        );
        assert_eq!(
            err.details.get("target_role").map(String::as_str),
            Some(target.as_str())
        );
        assert_eq!(table_rows(b.ws.ledger().conn(), "users"), users_before);
        assert_eq!(record_count(&b.ws), records_before);
    }
    // A manager cannot reset an admin's password or deactivate a manager either.
    let admin_id = b.sessions[&Role::Admin].user_id.clone();
    assert_code(
        b.ws.accounts()
            .reset_password(&manager, &admin_id, "taken-over-1"),
        ErrorCode::Forbidden,
    );
    let manager_id = b.sessions[&Role::Manager].user_id.clone();
    assert_code(
        b.ws.accounts().deactivate(&manager, &manager_id),
        ErrorCode::Forbidden,
    );
    // A manager may create the roles below them.
    for role in [Role::Receptionist, Role::Assistant, Role::Doctor, Role::Cashier] {
        assert!(permissions::may_administer(Role::Manager, role));
    }
    // An admin may create both.
    let boss =
        b.ws.accounts()
            .create_user(&admin, &new_user("boss2", Role::Admin))
            .unwrap();
    assert_eq!(boss.role, Role::Admin);
    let mgr =
        b.ws.accounts()
            .create_user(&admin, &new_user("mgr2", Role::Manager))
            .unwrap();
    assert_eq!(mgr.role, Role::Manager);
    assert_eq!(last_record(&b.ws).0, "user.created");
    for creator in [Role::Receptionist, Role::Assistant, Role::Doctor, Role::Cashier] {
        assert!(Role::iter().all(|t| !permissions::may_administer(creator, t)));
    }
}

#[test]
fn no_session_or_an_unknown_session_is_not_logged_in() {
    let mut b = shared();
    let records_before = record_count(&b.ws);
    let patient = b.patient_id.clone();
    // Any existing id will do where no session gets that far.
    let (user, record, device) = (
        UserId::new(patient.as_str()),
        RecordId::new(patient.as_str()),
        DeviceId::new(patient.as_str()),
    );
    let input = demo_patient(7);
    for session in ["", "no-such-session", "0190aaaa-0000-7000-8000-000000000000"] {
        let session = &SessionId::new(session);
        let ws = &mut b.ws;
        assert_code(ws.accounts().list_users(session), ErrorCode::NotLoggedIn);
        assert_code(
            ws.accounts()
                .create_user(session, &new_user("ghost", Role::Cashier)),
            ErrorCode::NotLoggedIn,
        );
        assert_code(
            ws.accounts().reset_password(session, &user, "whatever-1"),
            ErrorCode::NotLoggedIn,
        );
        assert_code(ws.accounts().deactivate(session, &user), ErrorCode::NotLoggedIn);
        assert_code(ws.accounts().reactivate(session, &user), ErrorCode::NotLoggedIn);
        assert_code(ws.patients().search(session, "a", 5), ErrorCode::NotLoggedIn);
        assert_code(ws.patients().register(session, &input), ErrorCode::NotLoggedIn);
        assert_code(
            ws.patients().update(session, &patient, &input),
            ErrorCode::NotLoggedIn,
        );
        assert_code(ws.patients().open(session, &patient), ErrorCode::NotLoggedIn);
        assert_code(
            ws.patients().resolve_conflict(
                session,
                &patient,
                &record,
                "phone",
                ConflictDecision::KeepCurrent,
            ),
            ErrorCode::NotLoggedIn,
        );
        assert_code(
            ws.audit().trail(session, &AuditFilter::default()),
            ErrorCode::NotLoggedIn,
        );
        assert_code(ws.audit().verify(session), ErrorCode::NotLoggedIn);
        assert_code(
            ws.settings().set_idle_lock_minutes(session, 5),
            ErrorCode::NotLoggedIn,
        );
        assert_code(ws.settings().get(session), ErrorCode::NotLoggedIn);
        assert_code(ws.set_language(session, Language::Ar), ErrorCode::NotLoggedIn);
        assert_code(ws.heartbeat(session), ErrorCode::NotLoggedIn);
        assert_code(ws.unlock(session, PASSWORD), ErrorCode::NotLoggedIn);
        assert_code(
            ws.devices().revoke(session, &device, "lost"),
            ErrorCode::NotLoggedIn,
        );
    }
    // Nothing was written for calls without a user.
    assert_eq!(record_count(&b.ws), records_before);
    // A logged-out session is gone too (a second session of the cashier; the first stays).
    let cashier = b.ws.login("user.cashier", PASSWORD).unwrap().session_id;
    b.ws.patients().search(&cashier, "a", 5).unwrap();
    b.ws.logout(&cashier).unwrap();
    assert_eq!(last_record(&b.ws).0, "auth.logged_out");
    assert_code(b.ws.patients().search(&cashier, "a", 5), ErrorCode::NotLoggedIn);
    let other = b.sessions[&Role::Cashier].session_id.clone();
    b.ws.patients().search(&other, "a", 5).unwrap();
}
