//! Doctors and chairs: profiles, weekly hours, leave, availability, chairs.

use super::super::*;
use super::{Area, CommandCase, NO_SUCH_ID};
use dentpro_core::doctors::{
    ChairUpdate, DayHours, DoctorUpdate, Interval, LeaveId, LeaveInput, LeaveSpan, Specialty, Status, Weekday,
};
use dentpro_core::permissions::{Action, Role};

/// The doctor's profile and the chair the area's commands act on.
pub type Fixture = DoctorsFixture;

/// A leave of the doctor and a doctor's account without a profile, made with the branch, for
/// the first cancellation and registration (the admission matrix's templates must name a
/// leave and an account the server knows).
pub struct SpareLeave(Option<LeaveId>);
pub struct SpareAccount(Option<dentpro_core::ids::UserId>);

fn a_day_off(n: usize) -> LeaveInput {
    LeaveInput {
        span: LeaveSpan::DayOff {
            date: format!("2026-04-{:02}", n % 28 + 1),
        },
        note: format!("leave {n}"),
    }
}

pub static AREA: Area = Area {
    name: "doctors",
    prepare: |b| {
        let admin = b.sessions[&Role::Admin].clone();
        let fixture = doctors_fixture(&mut b.ws, &admin.session_id, "PERM-0");
        let leave = b.ws.doctors().add_leave(&admin.session_id, &fixture.doctor_id, &a_day_off(0));
        b.set_fixture(SpareLeave(Some(leave.unwrap().id)));
        let account = new_user("dr.spare", Role::Doctor);
        let spare = b.ws.accounts().create_user(&admin.session_id, &account).unwrap().id;
        b.set_fixture(SpareAccount(Some(spare)));
        b.set_fixture(fixture);
    },
    commands: &[
        CommandCase {
            name: "doctors.list",
            action: Some(Action::DoctorView),
            writes: None,
            run: |b, c| b.ws.doctors().list(&c.session).map(|d| assert!(!d.is_empty())),
        },
        CommandCase {
            name: "doctors.get",
            action: Some(Action::DoctorView),
            writes: None,
            run: |b, c| {
                let doctor = b.fixture::<Fixture>().doctor_id.clone();
                b.ws.doctors()
                    .get(&c.session, &doctor)
                    .map(|d| assert_eq!(d.doctor.id, doctor))
            },
        },
        CommandCase {
            name: "doctors.availability",
            action: Some(Action::DoctorView),
            writes: None,
            run: |b, c| {
                let doctor = b.fixture::<Fixture>().doctor_id.clone();
                b.ws.doctors().availability(&c.session, &doctor, "2026-03-02").map(drop)
            },
        },
        CommandCase {
            name: "doctors.candidates",
            action: Some(Action::DoctorEdit),
            writes: None,
            run: |b, c| b.ws.doctors().candidates(&c.session).map(drop),
        },
        CommandCase {
            name: "doctors.register",
            action: Some(Action::DoctorEdit),
            writes: Some("doctor.registered"),
            // A role that may not is refused before the account is even looked at; one that
            // may registers a profile for the spare account, then for fresh ones.
            run: |b, c| {
                let user = if c.allowed {
                    let admin = b.admin();
                    let account = new_user(&format!("dr.{}.{}", c.role, c.n), Role::Doctor);
                    let spare = b.fixture_mut::<SpareAccount>().0.take();
                    spare.unwrap_or_else(|| b.ws.accounts().create_user(&admin, &account).unwrap().id)
                } else {
                    NO_SUCH_ID.into()
                };
                let licence = format!("PERM-{}", c.n);
                b.ws.doctors()
                    .register(&c.session, &doctor_input(&user, &licence))
                    .map(|d| assert_eq!(d.licence, licence))
            },
        },
        CommandCase {
            name: "doctors.update",
            action: Some(Action::DoctorEdit),
            writes: Some("doctor.updated"),
            run: |b, c| {
                let f = b.fixture::<Fixture>();
                let (doctor, licence) = (f.doctor_id.clone(), f.licence.clone());
                let update = DoctorUpdate {
                    name_en: format!("Lina {} {}", c.role, c.n),
                    name_ar: "لينا".into(),
                    specialty: Specialty::Endodontics,
                    licence,
                    status: Status::Active,
                };
                b.ws.doctors().update(&c.session, &doctor, &update).map(drop)
            },
        },
        CommandCase {
            name: "doctors.set_hours",
            action: Some(Action::DoctorEdit),
            writes: Some("doctor.hours_set"),
            run: |b, c| {
                let doctor = b.fixture::<Fixture>().doctor_id.clone();
                let monday = DayHours {
                    day: Weekday::Monday,
                    intervals: vec![Interval {
                        start: "09:00".into(),
                        end: format!("{}:00", 10 + c.n % 10),
                    }],
                };
                b.ws.doctors()
                    .set_hours(&c.session, &doctor, &[monday])
                    .map(|w| assert_eq!(w.len(), 1))
            },
        },
        CommandCase {
            name: "doctors.add_leave",
            action: Some(Action::DoctorEdit),
            writes: Some("doctor.leave_added"),
            run: |b, c| {
                let doctor = b.fixture::<Fixture>().doctor_id.clone();
                b.ws.doctors().add_leave(&c.session, &doctor, &a_day_off(c.n)).map(drop)
            },
        },
        CommandCase {
            name: "doctors.cancel_leave",
            action: Some(Action::DoctorEdit),
            writes: Some("doctor.leave_cancelled"),
            // One that may cancels the spare leave, then ones the admin adds first.
            run: |b, c| {
                let doctor = b.fixture::<Fixture>().doctor_id.clone();
                let leave = if c.allowed {
                    let admin = b.admin();
                    let spare = b.fixture_mut::<SpareLeave>().0.take();
                    spare.unwrap_or_else(|| b.ws.doctors().add_leave(&admin, &doctor, &a_day_off(c.n)).unwrap().id)
                } else {
                    LeaveId::new(NO_SUCH_ID)
                };
                b.ws.doctors()
                    .cancel_leave(&c.session, &doctor, &leave)
                    .map(|l| assert!(l.cancelled_at.is_some()))
            },
        },
        CommandCase {
            name: "doctors.chairs",
            action: Some(Action::DoctorView),
            writes: None,
            run: |b, c| b.ws.doctors().chairs(&c.session).map(|c| assert!(!c.is_empty())),
        },
        CommandCase {
            name: "doctors.add_chair",
            action: Some(Action::ChairEdit),
            writes: Some("chair.added"),
            run: |b, c| {
                let chair = chair_input(&format!("Chair {}", c.n));
                b.ws.doctors().add_chair(&c.session, &chair).map(drop)
            },
        },
        CommandCase {
            name: "doctors.update_chair",
            action: Some(Action::ChairEdit),
            writes: Some("chair.updated"),
            run: |b, c| {
                let chair = b.fixture::<Fixture>().chair_id.clone();
                let update = ChairUpdate {
                    label_en: format!("Chair 1 ({} {})", c.role, c.n),
                    label_ar: "كرسي ١".into(),
                    status: Status::Active,
                };
                b.ws.doctors().update_chair(&c.session, &chair, &update).map(drop)
            },
        },
    ],
    other_records: |_| {},
};
