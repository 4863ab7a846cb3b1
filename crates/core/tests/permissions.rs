//! Every role × every command that acts for a user: allowed or refused exactly as the
//! permission matrix says, and every refusal is an `access.denied` record that changes nothing.

mod common;

use common::*;
use dentpro_core::accounts::Language;
use dentpro_core::audit::AuditFilter;
use dentpro_core::demo::demo_patient;
use dentpro_core::devices::DeviceKind;
use dentpro_core::doctors::{
    ChairId, ChairInput, ChairUpdate, DayHours, DoctorId, DoctorInput, DoctorUpdate, Interval, LeaveId,
    LeaveInput, LeaveSpan, Specialty, Status, Weekday,
};
use dentpro_core::ids::{DeviceId, RecordId, SessionId, UserId};
use dentpro_core::patients::ConflictDecision;
use dentpro_core::permissions::{self, Action, Role};
use dentpro_core::workstation::SessionInfo;
use dentpro_core::{ErrorCode, Workstation};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The commands of [`Workstation`] that act for a signed-in user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    ListUsers,
    CreateUser,
    ResetPassword,
    Deactivate,
    Reactivate,
    SearchPatients,
    RegisterPatient,
    UpdatePatient,
    OpenPatient,
    AuditTrail,
    VerifyAudit,
    /// The verification report as a PDF (verifies, then prints; the outbox stores it).
    AuditReport,
    SetIdleLockMinutes,
    GetSettings,
    SetLanguage,
    Heartbeat,
    BranchDevices,
    CashierTerminals,
    SetCashierTerminals,
    /// Enrolling this (already set up) workstation with a branch server: the gate only.
    MayEnrol,
    RevokeDevice,
    /// Acting on an edit conflict of a file (allowed roles resolve a real one).
    ResolveConflict,
    ListDoctors,
    DoctorDetail,
    DoctorAvailability,
    DoctorCandidates,
    /// Allowed roles register a profile for a fresh doctor account.
    RegisterDoctor,
    UpdateDoctor,
    SetDoctorHours,
    AddDoctorLeave,
    /// Allowed roles cancel a leave they add first.
    CancelDoctorLeave,
    ListChairs,
    AddChair,
    UpdateChair,
}

const COMMANDS: [Command; 34] = [
    Command::ListUsers,
    Command::CreateUser,
    Command::ResetPassword,
    Command::Deactivate,
    Command::Reactivate,
    Command::SearchPatients,
    Command::RegisterPatient,
    Command::UpdatePatient,
    Command::OpenPatient,
    Command::AuditTrail,
    Command::VerifyAudit,
    Command::AuditReport,
    Command::SetIdleLockMinutes,
    Command::GetSettings,
    Command::SetLanguage,
    Command::Heartbeat,
    Command::BranchDevices,
    Command::CashierTerminals,
    Command::SetCashierTerminals,
    Command::MayEnrol,
    Command::RevokeDevice,
    Command::ResolveConflict,
    Command::ListDoctors,
    Command::DoctorDetail,
    Command::DoctorAvailability,
    Command::DoctorCandidates,
    Command::RegisterDoctor,
    Command::UpdateDoctor,
    Command::SetDoctorHours,
    Command::AddDoctorLeave,
    Command::CancelDoctorLeave,
    Command::ListChairs,
    Command::AddChair,
    Command::UpdateChair,
];

impl Command {
    /// The action the command is checked against; `None`: any signed-in user may.
    fn action(self) -> Option<Action> {
        match self {
            Command::ListUsers => Some(Action::UserList),
            Command::CreateUser => Some(Action::UserCreate),
            Command::ResetPassword => Some(Action::UserResetPassword),
            Command::Deactivate => Some(Action::UserDeactivate),
            Command::Reactivate => Some(Action::UserReactivate),
            Command::SearchPatients => Some(Action::PatientSearch),
            Command::RegisterPatient => Some(Action::PatientRegister),
            Command::UpdatePatient => Some(Action::PatientEdit),
            Command::OpenPatient => Some(Action::PatientView),
            Command::AuditTrail => Some(Action::AuditView),
            Command::VerifyAudit => Some(Action::AuditVerify),
            Command::AuditReport => Some(Action::AuditVerify),
            Command::SetIdleLockMinutes => Some(Action::SettingsEdit),
            Command::BranchDevices => Some(Action::DeviceList),
            Command::CashierTerminals => Some(Action::UserList),
            Command::MayEnrol => Some(Action::DeviceEnrol),
            Command::SetCashierTerminals => Some(Action::CashierBind),
            Command::RevokeDevice => Some(Action::DeviceRevoke),
            Command::ResolveConflict => Some(Action::PatientEdit),
            Command::ListDoctors
            | Command::DoctorDetail
            | Command::DoctorAvailability
            | Command::ListChairs => Some(Action::DoctorView),
            Command::DoctorCandidates
            | Command::RegisterDoctor
            | Command::UpdateDoctor
            | Command::SetDoctorHours
            | Command::AddDoctorLeave
            | Command::CancelDoctorLeave => Some(Action::DoctorEdit),
            Command::AddChair | Command::UpdateChair => Some(Action::ChairEdit),
            Command::GetSettings | Command::SetLanguage | Command::Heartbeat => None,
        }
    }

    /// The record an allowed call leaves behind (`None`: reads only).
    fn record_kind(self) -> Option<&'static str> {
        match self {
            Command::CreateUser => Some("user.created"),
            Command::ResetPassword => Some("user.password_reset"),
            Command::Deactivate => Some("user.deactivated"),
            Command::Reactivate => Some("user.reactivated"),
            Command::RegisterPatient => Some("patient.registered"),
            Command::UpdatePatient => Some("patient.updated"),
            Command::OpenPatient => Some("patient.viewed"),
            Command::VerifyAudit => Some("audit.verified"),
            Command::AuditReport => Some("audit.report_generated"),
            Command::SetIdleLockMinutes => Some("settings.changed"),
            Command::SetLanguage => Some("user.language_set"),
            Command::SetCashierTerminals => Some("cashier.terminals_set"),
            Command::RevokeDevice => Some("device.revoked"),
            Command::ResolveConflict => Some("patient.conflict_resolved"),
            Command::RegisterDoctor => Some("doctor.registered"),
            Command::UpdateDoctor => Some("doctor.updated"),
            Command::SetDoctorHours => Some("doctor.hours_set"),
            Command::AddDoctorLeave => Some("doctor.leave_added"),
            Command::CancelDoctorLeave => Some("doctor.leave_cancelled"),
            Command::AddChair => Some("chair.added"),
            Command::UpdateChair => Some("chair.updated"),
            _ => None,
        }
    }
}

fn expected_allowed(role: Role, command: Command) -> bool {
    command.action().is_none_or(|a| permissions::allows(role, a))
}

struct Branch {
    _dir: tempfile::TempDir,
    ws: Workstation,
    sessions: HashMap<Role, SessionInfo>,
    /// A cashier account the administering commands act on.
    victim_id: dentpro_core::ids::UserId,
    patient_id: dentpro_core::ids::PatientId,
    /// Other enrolled workstations of the branch (their records pulled here), to revoke.
    _device_dirs: Vec<tempfile::TempDir>,
    /// Makes usernames unique across the tests sharing the branch.
    counter: usize,
    /// The desk whose edits lose to this one's, making the conflicts `ResolveConflict` resolves.
    other_desk: OtherDesk,
    /// A doctor's profile and a chair the doctors commands act on.
    doctor_id: DoctorId,
    chair_id: ChairId,
}

/// A branch with one signed-in user of every role, a victim account and a patient.
fn branch() -> Branch {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let mut sessions = HashMap::new();
    for role in Role::iter().filter(|r| *r != Role::Admin) {
        let username = format!("user.{role}");
        ws.accounts()
            .create_user(&admin.session_id, &new_user(&username, role))
            .unwrap();
        sessions.insert(role, ws.login(&username, PASSWORD).unwrap());
    }
    let victim_id = ws
        .accounts()
        .create_user(&admin.session_id, &new_user("victim", Role::Cashier))
        .unwrap()
        .id;
    let patient_id = ws
        .patients()
        .register(&admin.session_id, &demo_patient(1))
        .unwrap()
        .id;
    let doctor_user = ws
        .accounts()
        .create_user(&admin.session_id, &new_user("dr.profile", Role::Doctor))
        .unwrap()
        .id;
    let doctor_id = ws
        .doctors()
        .register(&admin.session_id, &doctor_input(&doctor_user, "PERM-0"))
        .unwrap()
        .id;
    let chair_id = ws
        .doctors()
        .add_chair(
            &admin.session_id,
            &ChairInput {
                label_en: "Chair 1".into(),
                label_ar: "كرسي ١".into(),
            },
        )
        .unwrap()
        .id;
    sessions.insert(Role::Admin, admin);
    // One workstation for every revocation the admin makes in these tests.
    let device_dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, d) in device_dirs.iter().enumerate() {
        let (_, records) = enrolled_device(d.path(), &clock, DeviceKind::Doctor, &format!("chair {i}"));
        pull_into(&mut ws, &records);
    }
    Branch {
        _dir: dir,
        ws,
        sessions,
        victim_id,
        patient_id,
        _device_dirs: device_dirs,
        counter: 0,
        other_desk: OtherDesk::new(),
        doctor_id,
        chair_id,
    }
}

fn doctor_input(user_id: &str, licence: &str) -> DoctorInput {
    DoctorInput {
        user_id: user_id.into(),
        name_en: "Lina Haddad".into(),
        name_ar: "لينا حداد".into(),
        specialty: Specialty::Orthodontics,
        licence: licence.into(),
    }
}

fn a_day_off(n: usize) -> LeaveInput {
    LeaveInput {
        span: LeaveSpan::DayOff {
            date: format!("2026-04-{:02}", n % 28 + 1),
        },
        note: format!("leave {n}"),
    }
}

/// One branch shared by the tests of this file (every account costs an argon2id hash, which is
/// slow in a debug build); each test takes it in turn.
fn shared() -> MutexGuard<'static, Branch> {
    static BRANCH: OnceLock<Mutex<Branch>> = OnceLock::new();
    BRANCH
        .get_or_init(|| Mutex::new(branch()))
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `command` as `session`; Ok(()) or the error.
fn run(
    b: &mut Branch,
    session: &dentpro_core::ids::SessionId,
    role: Role,
    command: Command,
) -> dentpro_core::Result<()> {
    b.counter += 1;
    let n = b.counter;
    let ws = &mut b.ws;
    match command {
        Command::ListUsers => ws.accounts().list_users(session).map(|u| assert!(u.len() >= 7)),
        Command::CreateUser => {
            // A role every creator who may create users may administer.
            ws.accounts()
                .create_user(session, &new_user(&format!("new.{role}.{n}"), Role::Receptionist))
                .map(drop)
        }
        Command::ResetPassword => ws
            .accounts()
            .reset_password(session, &b.victim_id, "another-pass-1"),
        Command::Deactivate => ws
            .accounts()
            .deactivate(session, &b.victim_id)
            .map(|u| assert!(!u.active)),
        Command::Reactivate => ws
            .accounts()
            .reactivate(session, &b.victim_id)
            .map(|u| assert!(u.active)),
        Command::SearchPatients => ws.patients().search(session, "a", 10).map(drop),
        Command::RegisterPatient => ws.patients().register(session, &demo_patient(100 + n)).map(drop),
        Command::UpdatePatient => {
            let mut input = dentpro_core::patients::get(ws.ledger().conn(), &b.patient_id)
                .unwrap()
                .fields;
            input.address = format!("{role} street {n}");
            ws.patients()
                .update(session, &b.patient_id, &input)
                .map(|p| assert_eq!(p.fields.address, input.address))
        }
        Command::OpenPatient => ws
            .patients()
            .open(session, &b.patient_id)
            .map(|f| assert_eq!(f.patient.id, b.patient_id)),
        Command::AuditTrail => ws
            .audit()
            .trail(
                session,
                &AuditFilter {
                    limit: 50,
                    ..Default::default()
                },
            )
            .map(drop),
        Command::VerifyAudit => ws.audit().verify(session).map(|r| assert!(r.ok, "{r:?}")),
        Command::AuditReport => ws.audit().report(session).map(drop),
        Command::SetIdleLockMinutes => ws
            .settings()
            .set_idle_lock_minutes(session, 12)
            .map(|s| assert_eq!(s.idle_lock_minutes, 12)),
        Command::GetSettings => ws.settings().get(session).map(drop),
        Command::SetLanguage => ws
            .set_language(session, Language::Ar)
            .map(|s| assert_eq!(s.language, Language::Ar)),
        Command::Heartbeat => ws.heartbeat(session),
        Command::BranchDevices => ws.devices().branch_devices(session).map(drop),
        Command::CashierTerminals => ws.accounts().cashier_terminals(session, &b.victim_id).map(drop),
        Command::SetCashierTerminals => ws
            .accounts()
            .set_cashier_terminals(
                session,
                &b.victim_id,
                &["00112233445566778899aabbccddeeff".into()],
            )
            .map(|t| assert_eq!(t.len(), 1)),
        Command::MayEnrol => ws.devices().may_enrol(Some(session)),
        Command::RevokeDevice => {
            // A role that may not revoke is refused before the device is even looked at.
            let victim = dentpro_core::devices::branch_devices(ws.ledger().conn())
                .unwrap()
                .into_iter()
                .find(|d| d.revoked.is_none())
                .map_or_else(|| "00".repeat(16).into(), |d| d.device_id);
            ws.devices()
                .revoke(session, &victim, &format!("lost ({role} {n})"))
                .map(|d| assert!(d.revoked.is_some()))
        }
        Command::ResolveConflict => {
            // A role that may not edit the file is refused before the conflict is looked at;
            // one that may resolves a real one, made first (as an edit of its own).
            let conflict = if expected_allowed(role, command) {
                let (here, elsewhere) = (format!("{role} here {n}"), format!("{role} elsewhere {n}"));
                let field = "emergency_contact";
                make_conflict(
                    ws,
                    session,
                    &mut b.other_desk,
                    &b.patient_id,
                    field,
                    &here,
                    &elsewhere,
                )
            } else {
                "0190aaaa-0000-7000-8000-000000000000".into()
            };
            let apply = n.is_multiple_of(2);
            ws.patients()
                .resolve_conflict(
                    session,
                    &b.patient_id,
                    &conflict,
                    "emergency_contact",
                    if apply {
                        ConflictDecision::ApplyLosingEdit
                    } else {
                        ConflictDecision::KeepCurrent
                    },
                )
                .map(|f| {
                    assert!(f.conflicts.is_empty(), "{:?}", f.conflicts);
                    let wanted = if apply { "elsewhere" } else { "here" };
                    assert!(f.patient.fields.emergency_contact.contains(wanted));
                })
        }
        Command::ListDoctors => ws.doctors().list(session).map(|d| assert!(!d.is_empty())),
        Command::DoctorDetail => ws
            .doctors()
            .get(session, &b.doctor_id)
            .map(|d| assert_eq!(d.doctor.id, b.doctor_id)),
        Command::DoctorAvailability => ws
            .doctors()
            .availability(session, &b.doctor_id, "2026-03-02")
            .map(drop),
        Command::DoctorCandidates => ws.doctors().candidates(session).map(drop),
        Command::RegisterDoctor => {
            // A role that may not is refused before the account is even looked at.
            let user = if expected_allowed(role, command) {
                let admin = b.sessions[&Role::Admin].session_id.clone();
                ws.accounts()
                    .create_user(&admin, &new_user(&format!("dr.{role}.{n}"), Role::Doctor))
                    .unwrap()
                    .id
            } else {
                "0190aaaa-0000-7000-8000-000000000000".into()
            };
            ws.doctors()
                .register(session, &doctor_input(&user, &format!("PERM-{n}")))
                .map(|d| assert_eq!(d.licence, format!("PERM-{n}")))
        }
        Command::UpdateDoctor => ws
            .doctors()
            .update(
                session,
                &b.doctor_id,
                &DoctorUpdate {
                    name_en: format!("Lina {role} {n}"),
                    name_ar: "لينا".into(),
                    specialty: Specialty::Endodontics,
                    licence: "PERM-0".into(),
                    status: Status::Active,
                },
            )
            .map(drop),
        Command::SetDoctorHours => ws
            .doctors()
            .set_hours(
                session,
                &b.doctor_id,
                &[DayHours {
                    day: Weekday::Monday,
                    intervals: vec![Interval {
                        start: "09:00".into(),
                        end: format!("{}:00", 10 + n % 10),
                    }],
                }],
            )
            .map(|w| assert_eq!(w.len(), 1)),
        Command::AddDoctorLeave => ws
            .doctors()
            .add_leave(session, &b.doctor_id, &a_day_off(n))
            .map(drop),
        Command::CancelDoctorLeave => {
            let leave = if expected_allowed(role, command) {
                let admin = b.sessions[&Role::Admin].session_id.clone();
                ws.doctors()
                    .add_leave(&admin, &b.doctor_id, &a_day_off(n))
                    .unwrap()
                    .id
            } else {
                LeaveId::new("0190aaaa-0000-7000-8000-000000000000")
            };
            ws.doctors()
                .cancel_leave(session, &b.doctor_id, &leave)
                .map(|l| assert!(l.cancelled_at.is_some()))
        }
        Command::ListChairs => ws.doctors().chairs(session).map(|c| assert!(!c.is_empty())),
        Command::AddChair => ws
            .doctors()
            .add_chair(
                session,
                &ChairInput {
                    label_en: format!("Chair {n}"),
                    label_ar: "كرسي".into(),
                },
            )
            .map(drop),
        Command::UpdateChair => ws
            .doctors()
            .update_chair(
                session,
                &b.chair_id,
                &ChairUpdate {
                    label_en: format!("Chair 1 ({role} {n})"),
                    label_ar: "كرسي ١".into(),
                    status: Status::Active,
                },
            )
            .map(drop),
    }
}

/// What must not move when a command is refused.
fn snapshot(ws: &Workstation) -> Vec<Vec<String>> {
    let conn = ws.ledger().conn();
    [
        "users",
        "patients",
        "settings",
        "branch",
        "patient_conflicts",
        "doctors",
        "doctor_hours",
        "doctor_leave",
        "chairs",
    ]
    .iter()
    .map(|t| table_rows(conn, t))
    .collect()
}

/// Asserts one call: allowed, or refused with a single `access.denied` record and no change.
fn check(b: &mut Branch, role: Role, command: Command, allowed: bool) {
    let session = b.sessions[&role].clone();
    let before = snapshot(&b.ws);
    let records_before = record_count(&b.ws);
    let result = run(b, &session.session_id, role, command);
    if allowed {
        if let Err(e) = &result {
            panic!("{role} should be allowed to {command:?}, got {e:?}");
        }
        if let Some(kind) = command.record_kind() {
            let (last_kind, user, last_role) = last_record(&b.ws);
            assert_eq!(last_kind, kind, "{role} {command:?}");
            assert_eq!(user.as_deref(), Some(session.user_id.as_str()));
            assert_eq!(last_role.as_deref(), Some(role.as_str()));
        } else {
            assert_eq!(
                record_count(&b.ws),
                records_before,
                "{role} {command:?} only reads"
            );
        }
    } else {
        let err = assert_code(result, ErrorCode::Forbidden);
        assert_eq!(err.details.get("role").map(String::as_str), Some(role.as_str()));
        assert_eq!(
            snapshot(&b.ws),
            before,
            "{role} {command:?} was refused but changed a table"
        );
        assert_eq!(
            record_count(&b.ws),
            records_before + 1,
            "{role} {command:?}: exactly one new record"
        );
        let (kind, user, last_role) = last_record(&b.ws);
        assert_eq!(kind, "access.denied", "{role} {command:?}");
        assert_eq!(user.as_deref(), Some(session.user_id.as_str()));
        assert_eq!(last_role.as_deref(), Some(role.as_str()));
        let action = command.action().unwrap().as_str();
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
        for command in COMMANDS {
            check(&mut b, role, command, expected_allowed(role, command));
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

/// Written out by hand, so a wrong matrix fails too, not only a wrong gate.
const EXPLICIT: &[(Role, Command, bool)] = &[
    (Role::Cashier, Command::OpenPatient, false),
    (Role::Cashier, Command::UpdatePatient, false),
    (Role::Cashier, Command::RegisterPatient, false),
    (Role::Cashier, Command::SearchPatients, true),
    (Role::Doctor, Command::CreateUser, false),
    (Role::Doctor, Command::ListUsers, false),
    (Role::Doctor, Command::OpenPatient, true),
    (Role::Doctor, Command::UpdatePatient, true),
    (Role::Doctor, Command::RegisterPatient, false),
    (Role::Assistant, Command::UpdatePatient, true),
    (Role::Assistant, Command::VerifyAudit, false),
    (Role::Receptionist, Command::AuditTrail, false),
    (Role::Receptionist, Command::RegisterPatient, true),
    (Role::Receptionist, Command::ResetPassword, false),
    (Role::Manager, Command::RegisterPatient, false),
    (Role::Manager, Command::UpdatePatient, false),
    (Role::Manager, Command::AuditTrail, true),
    (Role::Manager, Command::VerifyAudit, true),
    (Role::Manager, Command::AuditReport, true),
    (Role::Doctor, Command::AuditReport, false),
    (Role::Manager, Command::CreateUser, true),
    (Role::Manager, Command::SetIdleLockMinutes, false),
    (Role::Admin, Command::SetIdleLockMinutes, true),
    (Role::Admin, Command::RegisterPatient, true),
    (Role::Cashier, Command::Heartbeat, true),
    (Role::Doctor, Command::GetSettings, true),
    (Role::Receptionist, Command::SetLanguage, true),
    (Role::Admin, Command::MayEnrol, true),
    (Role::Manager, Command::MayEnrol, false),
    (Role::Manager, Command::BranchDevices, true),
    (Role::Doctor, Command::BranchDevices, false),
    (Role::Admin, Command::RevokeDevice, true),
    (Role::Manager, Command::RevokeDevice, false),
    (Role::Manager, Command::ResolveConflict, false),
    (Role::Cashier, Command::ResolveConflict, false),
    (Role::Receptionist, Command::ResolveConflict, true),
    (Role::Doctor, Command::ResolveConflict, true),
    (Role::Cashier, Command::ListDoctors, false),
    (Role::Cashier, Command::ListChairs, false),
    (Role::Receptionist, Command::ListDoctors, true),
    (Role::Assistant, Command::DoctorDetail, true),
    (Role::Doctor, Command::DoctorAvailability, true),
    (Role::Receptionist, Command::RegisterDoctor, false),
    (Role::Doctor, Command::SetDoctorHours, false),
    (Role::Doctor, Command::AddDoctorLeave, false),
    (Role::Manager, Command::RegisterDoctor, true),
    (Role::Manager, Command::CancelDoctorLeave, true),
    (Role::Admin, Command::UpdateDoctor, true),
    (Role::Manager, Command::AddChair, true),
    (Role::Assistant, Command::AddChair, false),
    (Role::Receptionist, Command::UpdateChair, false),
];

#[test]
fn explicit_expectations_agree_with_the_matrix_and_the_gate() {
    for (role, command, allowed) in EXPLICIT {
        assert_eq!(
            expected_allowed(*role, *command),
            *allowed,
            "matrix: {role} {command:?}"
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
    for (role, command, allowed) in EXPLICIT {
        check(&mut b, *role, *command, *allowed);
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
