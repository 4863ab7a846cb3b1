//! The guard matrices' cases, fed by the areas. Each area's file here lists its commands —
//! how to call each one as any role, the action it is checked against, the record an allowed
//! call leaves — and prepares what they act on. `tests/permissions.rs` (role × command) runs
//! every case as every role; `tests/admission.rs` (role × kind) runs every case as the admin
//! and re-signs the records they leave as every role. A new command or kind is a case in its
//! area's file; a new area is its file and one word in `areas!` below.

use super::*;
use dentpro_core::demo::demo_patient;
use dentpro_core::devices::DeviceKind;
use dentpro_core::ids::{DeviceId, PatientId, SessionId, UserId};
use dentpro_core::permissions::{self, Action, Role};
use dentpro_core::record::Record;
use std::any::{Any, TypeId};
use std::collections::HashMap;

/// Declares each area's case file and lists it in [`AREAS`].
macro_rules! areas {
    ($($area:ident),* $(,)?) => {
        $(pub mod $area;)*
        /// Every area's cases, in the order the matrices run them.
        pub static AREAS: &[&Area] = &[$(&$area::AREA),*];
    };
}
areas!(accounts, patients, audit, settings, devices, doctors);

/// One area's part of the guard tests.
pub struct Area {
    /// The folder of the area in `crates/core/src` (its `facade.rs` methods each need a case).
    pub name: &'static str,
    /// Makes what the area's commands act on, as the admin, once per branch (e.g. with
    /// [`Branch::set_fixture`]).
    pub prepare: fn(&mut Branch),
    pub commands: &'static [CommandCase],
    /// Writes, as a user would, the area's records that no command case leaves (sign-in and
    /// the like): the admission matrix's templates of those kinds.
    pub other_records: fn(&mut Branch),
}

/// One command of an area's handle (or of the workstation) that acts for a signed-in user.
pub struct CommandCase {
    /// `<area>.<facade method>`.
    pub name: &'static str,
    /// The action the command is checked against; `None`: any signed-in user may.
    pub action: Option<Action>,
    /// The record an allowed call leaves behind (`None`: reads only).
    pub writes: Option<&'static str>,
    /// Calls the command; an allowed call also checks what it gave.
    pub run: fn(&mut Branch, &Call) -> dentpro_core::Result<()>,
}

/// Who calls a command case, and what the matrix expects.
pub struct Call {
    pub session: SessionId,
    pub role: Role,
    /// The matrix lets the role do it (a case may make what the call needs first).
    pub allowed: bool,
    /// A number unique in the branch (for usernames, labels, dates).
    pub n: usize,
}

impl CommandCase {
    pub fn allowed(&self, role: Role) -> bool {
        self.action.is_none_or(|a| permissions::allows(role, a))
    }
}

/// Every command case of every area.
pub fn commands() -> impl Iterator<Item = &'static CommandCase> {
    AREAS.iter().flat_map(|a| a.commands.iter())
}

/// The case named `name`.
pub fn case(name: &str) -> &'static CommandCase {
    commands()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no command case {name}"))
}

/// Another enrolled workstation of the branch (its records pulled here), e.g. to revoke.
pub struct OtherDevice {
    pub dir: tempfile::TempDir,
    pub device_id: DeviceId,
    pub records: Vec<Record>,
}

/// A branch on one workstation with a signed-in user of every role (the cashier bound to this
/// workstation as their terminal), a cashier account the administering commands act on, a
/// patient, other enrolled workstations, and what each area prepared.
pub struct Branch {
    pub dir: tempfile::TempDir,
    pub clock: dentpro_core::clock::ManualClock,
    pub ws: Workstation,
    pub sessions: HashMap<Role, SessionInfo>,
    pub victim_id: UserId,
    pub patient_id: PatientId,
    pub other_devices: Vec<OtherDevice>,
    /// The desk whose edits lose to this one's, making the conflicts a case resolves.
    pub other_desk: OtherDesk,
    counter: usize,
    fixtures: HashMap<TypeId, Box<dyn Any + Send>>,
}

impl Branch {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = clock();
        let (mut ws, admin) = set_up(dir.path(), &clock);
        let mut users = HashMap::new();
        for role in Role::iter().filter(|r| *r != Role::Admin) {
            let user = ws
                .accounts()
                .create_user(&admin.session_id, &new_user(&format!("user.{role}"), role))
                .unwrap();
            users.insert(role, user.id);
        }
        let own = ws.device_id().clone();
        ws.accounts()
            .set_cashier_terminals(
                &admin.session_id,
                &users[&Role::Cashier],
                std::slice::from_ref(&own),
            )
            .unwrap();
        let mut sessions = HashMap::new();
        for role in users.keys() {
            sessions.insert(*role, ws.login(&format!("user.{role}"), PASSWORD).unwrap());
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
        sessions.insert(Role::Admin, admin);
        let mut branch = Branch {
            dir,
            clock,
            ws,
            sessions,
            victim_id,
            patient_id,
            other_devices: Vec::new(),
            other_desk: OtherDesk::new(),
            counter: 0,
            fixtures: HashMap::new(),
        };
        for area in AREAS {
            (area.prepare)(&mut branch);
        }
        // One workstation for every revocation the admin makes in the tests.
        for i in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let (device_id, records) = enrolled_device(
                dir.path(),
                &branch.clock,
                DeviceKind::Doctor,
                &format!("chair {i}"),
            );
            pull_into(&mut branch.ws, &records);
            branch.other_devices.push(OtherDevice {
                dir,
                device_id,
                records,
            });
        }
        branch
    }

    pub fn admin(&self) -> SessionId {
        self.sessions[&Role::Admin].session_id.clone()
    }

    pub fn user(&self, role: Role) -> UserId {
        self.sessions[&role].user_id.clone()
    }

    /// Runs `case` as `role`'s session.
    pub fn run(&mut self, case: &CommandCase, role: Role) -> dentpro_core::Result<()> {
        self.counter += 1;
        let call = Call {
            session: self.sessions[&role].session_id.clone(),
            role,
            allowed: case.allowed(role),
            n: self.counter,
        };
        (case.run)(self, &call)
    }

    /// Keeps what an area prepared, one value per type.
    pub fn set_fixture<T: Any + Send>(&mut self, fixture: T) {
        self.fixtures.insert(TypeId::of::<T>(), Box::new(fixture));
    }

    pub fn fixture_mut<T: Any + Send>(&mut self) -> &mut T {
        self.fixtures
            .get_mut(&TypeId::of::<T>())
            .and_then(|f| f.downcast_mut())
            .expect("prepared by its area")
    }

    pub fn fixture<T: Any + Send>(&self) -> &T {
        self.fixtures
            .get(&TypeId::of::<T>())
            .and_then(|f| f.downcast_ref())
            .expect("prepared by its area")
    }
}

impl Default for Branch {
    fn default() -> Self {
        Self::new()
    }
}

/// A fake id of the right shape, for calls refused before the id is looked at.
pub const NO_SUCH_ID: &str = "0190aaaa-0000-7000-8000-000000000000";

/// The area's facade methods that act for a session (`pub fn x(&mut self, session: &SessionId`).
pub fn facade_commands(area: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("src/{area}/facade.rs"));
    let source = std::fs::read_to_string(&path).unwrap_or_default();
    source
        .split("pub fn ")
        .skip(1)
        .filter(|s| {
            s.split(')')
                .next()
                .is_some_and(|args| args.contains("session: &SessionId"))
        })
        .filter_map(|s| s.split('(').next())
        .map(str::to_owned)
        .collect()
}
