//! Doctors and chairs: profiles linked to doctor accounts, chairs, weekly hours, leave and a
//! doctor's availability on a date; hostile input refused with nothing written; the signed
//! payloads' bytes (golden); rebuild and verification after these records; and incremental
//! replay of a doctor's (and a licence number's) subject when another desk's records land first.

mod common;

use common::desk::push;
use common::*;
use dentpro_core::doctors::{
    ChairAdded, ChairId, ChairInput, ChairUpdate, ChairUpdated, DayHours, DoctorHoursSet, DoctorId,
    DoctorInput, DoctorLeaveAdded, DoctorLeaveCancelled, DoctorProfile, DoctorRegistered, DoctorUpdate,
    DoctorUpdated, Interval, LeaveId, LeaveInput, LeaveSpan, Specialty, Status, Weekday,
};
use dentpro_core::ids::UserId;
use dentpro_core::kind::Event;
use dentpro_core::permissions::Role;
use dentpro_core::{CoreError, ErrorCode, Workstation, audit, replay};
use rusqlite::Connection;

struct Clinic {
    _dir: tempfile::TempDir,
    ws: Workstation,
    admin: dentpro_core::ids::SessionId,
    admin_id: UserId,
    manager: dentpro_core::ids::SessionId,
    /// Doctor accounts (active, no profile yet).
    doctors: Vec<UserId>,
}

fn clinic() -> Clinic {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    ws.accounts()
        .create_user(&admin.session_id, &new_user("maha", Role::Manager))
        .unwrap();
    let manager = ws.login("maha", PASSWORD).unwrap().session_id;
    let doctors = (1..=3)
        .map(|i| {
            ws.accounts()
                .create_user(&admin.session_id, &new_user(&format!("dr{i}"), Role::Doctor))
                .unwrap()
                .id
        })
        .collect();
    Clinic {
        _dir: dir,
        ws,
        admin_id: admin.user_id.clone(),
        admin: admin.session_id,
        manager,
        doctors,
    }
}

fn input(user_id: &str, licence: &str) -> DoctorInput {
    DoctorInput {
        user_id: UserId::new(user_id),
        name_en: "Lina Haddad".into(),
        name_ar: "لينا حداد".into(),
        specialty: Specialty::Orthodontics,
        licence: licence.into(),
    }
}

fn iv(start: &str, end: &str) -> Interval {
    Interval {
        start: start.into(),
        end: end.into(),
    }
}

fn day(day: Weekday, intervals: &[(&str, &str)]) -> DayHours {
    DayHours {
        day,
        intervals: intervals.iter().map(|(s, e)| iv(s, e)).collect(),
    }
}

fn leave(span: LeaveSpan) -> LeaveInput {
    LeaveInput {
        span,
        note: "family".into(),
    }
}

/// What must not move when a command is refused: the area's tables and the chain.
fn snapshot(ws: &Workstation) -> (Vec<Vec<String>>, i64) {
    let conn = ws.ledger().conn();
    (
        ["doctors", "doctor_hours", "doctor_leave", "chairs"]
            .iter()
            .map(|t| table_rows(conn, t))
            .collect(),
        record_count(ws),
    )
}

fn spans(a: &dentpro_core::doctors::DayAvailability) -> Vec<(String, String)> {
    a.intervals
        .iter()
        .map(|i| (i.start.clone(), i.end.clone()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(s, e)| ((*s).into(), (*e).into())).collect()
}

/// `err` is the core's refusal of `field` for `reason` (`what` names the case when it is not).
#[track_caller]
fn assert_refused(what: &str, err: &CoreError, field: &str, reason: &str) {
    let detail = |key: &str| err.details.get(key).map(String::as_str);
    assert_eq!(
        (detail("field"), detail("reason")),
        (Some(field), Some(reason)),
        "{what}: {err:?}"
    );
}

#[test]
fn a_manager_registers_a_doctor_with_hours_and_leave_and_the_desk_reads_them() {
    let mut c = clinic();
    let m = c.manager.clone();
    let doctor =
        c.ws.doctors()
            .register(&m, &input(&c.doctors[0], " jmc-1234 "))
            .unwrap();
    assert_eq!(last_record(&c.ws).0, "doctor.registered");
    assert_eq!(doctor.licence, "JMC-1234", "trimmed and upper-cased");
    assert_eq!(doctor.status, Status::Active);
    assert_eq!(doctor.username.as_deref(), Some("dr1"));
    let week = vec![
        day(Weekday::Sunday, &[("10:00", "14:00")]),
        day(Weekday::Monday, &[("09:00", "13:00"), ("14:00", "18:00")]),
        day(Weekday::Tuesday, &[]),
    ];
    let stored = c.ws.doctors().set_hours(&m, &doctor.id, &week).unwrap();
    assert_eq!(
        stored.iter().map(|d| d.day).collect::<Vec<_>>(),
        [Weekday::Monday, Weekday::Sunday],
        "Monday first; days without hours left out"
    );
    let off =
        c.ws.doctors()
            .add_leave(
                &m,
                &doctor.id,
                &leave(LeaveSpan::DayOff {
                    date: "2026-03-09".into(),
                }),
            )
            .unwrap();
    assert_eq!(off.note, "family");
    let edited =
        c.ws.doctors()
            .update(
                &m,
                &doctor.id,
                &DoctorUpdate {
                    name_en: "Dr Lina Haddad".into(),
                    name_ar: "د. لينا حداد".into(),
                    specialty: Specialty::Endodontics,
                    licence: "JMC-1234".into(),
                    status: Status::Active,
                },
            )
            .unwrap();
    assert_eq!(edited.specialty, Specialty::Endodontics);
    let chair =
        c.ws.doctors()
            .add_chair(
                &m,
                &ChairInput {
                    label_en: "Chair 1".into(),
                    label_ar: "كرسي ١".into(),
                },
            )
            .unwrap();
    let chair =
        c.ws.doctors()
            .update_chair(
                &m,
                &chair.id,
                &ChairUpdate {
                    label_en: "Chair 1 (window)".into(),
                    label_ar: "كرسي ١".into(),
                    status: Status::Retired,
                },
            )
            .unwrap();
    assert_eq!(chair.status, Status::Retired);

    // Every role that books or treats reads them.
    let admin = c.admin.clone();
    for role in [Role::Receptionist, Role::Assistant, Role::Doctor] {
        let name = format!("reader.{role}");
        c.ws.accounts()
            .create_user(&admin, &new_user(&name, role))
            .unwrap();
        let s = c.ws.login(&name, PASSWORD).unwrap().session_id;
        let list = c.ws.doctors().list(&s).unwrap();
        assert_eq!(list, vec![edited.clone()]);
        let detail = c.ws.doctors().get(&s, &doctor.id).unwrap();
        assert_eq!(detail.week, stored);
        assert_eq!(detail.leave, vec![off.clone()]);
        assert_eq!(c.ws.doctors().chairs(&s).unwrap(), vec![chair.clone()]);
        let monday = c.ws.doctors().availability(&s, &doctor.id, "2026-03-02").unwrap();
        assert_eq!(spans(&monday), pairs(&[("09:00", "13:00"), ("14:00", "18:00")]));
    }
    // The account now has a profile: no longer a candidate.
    let candidates = c.ws.doctors().candidates(&m).unwrap();
    assert_eq!(
        candidates.iter().map(|d| d.username.as_str()).collect::<Vec<_>>(),
        ["dr2", "dr3", "reader.doctor"]
    );
    let report = audit::verify(
        c.ws.ledger().conn(),
        Some(c.ws.data_dir()),
        Some(c.ws.device_id()),
    )
    .unwrap();
    assert!(report.ok, "{report:?}");
}

#[test]
fn hostile_input_is_refused_and_writes_nothing() {
    let mut c = clinic();
    let m = c.manager.clone();
    let doctor = c.ws.doctors().register(&m, &input(&c.doctors[0], "A-1")).unwrap();
    let cashier =
        c.ws.accounts()
            .create_user(&c.admin.clone(), &new_user("cash", Role::Cashier))
            .unwrap()
            .id;
    let gone = c.doctors[2].clone();
    c.ws.accounts().deactivate(&c.admin.clone(), &gone).unwrap();
    let free = c.doctors[1].clone();
    let long = "x".repeat(101);

    type Case = (&'static str, DoctorInput, &'static str, &'static str);
    let registrations: Vec<Case> = vec![
        (
            "overlong English name",
            DoctorInput {
                name_en: long.clone(),
                ..input(&free, "B-1")
            },
            "name_en",
            "too_long",
        ),
        (
            "overlong Arabic name",
            DoctorInput {
                name_ar: "ب".repeat(101),
                ..input(&free, "B-1")
            },
            "name_ar",
            "too_long",
        ),
        (
            "blank name",
            DoctorInput {
                name_ar: "   ".into(),
                ..input(&free, "B-1")
            },
            "name_ar",
            "required",
        ),
        (
            "overlong licence",
            input(&free, &"9".repeat(31)),
            "licence",
            "too_long",
        ),
        ("blank licence", input(&free, " "), "licence", "required"),
        (
            "licence with odd characters",
            input(&free, "B-1<script>"),
            "licence",
            "licence_format",
        ),
        (
            "Arabic digits in a licence",
            input(&free, "١٢٣"),
            "licence",
            "licence_format",
        ),
        (
            "unknown account",
            input("0190aaaa-0000-7000-8000-000000000000", "B-1"),
            "user_id",
            "unknown_user",
        ),
        (
            "overlong account id",
            input(&"u".repeat(200), "B-1"),
            "user_id",
            "unknown_user",
        ),
        (
            "an account that is not a doctor's",
            input(&cashier, "B-1"),
            "user_id",
            "not_a_doctor",
        ),
        (
            "an inactive doctor",
            input(&gone, "B-1"),
            "user_id",
            "user_inactive",
        ),
        (
            "a second profile for one account",
            input(&c.doctors[0], "B-1"),
            "user_id",
            "profile_exists",
        ),
        (
            "a licence taken (in another case)",
            input(&free, " a-1"),
            "licence",
            "licence_taken",
        ),
    ];
    for (what, bad, field, reason) in registrations {
        let before = snapshot(&c.ws);
        let err = c.ws.doctors().register(&m, &bad).unwrap_err();
        assert_refused(what, &err, field, reason);
        assert_eq!(snapshot(&c.ws), before, "{what} wrote something");
    }

    let weeks: Vec<(&str, Vec<DayHours>, &str)> = vec![
        (
            "overlapping",
            vec![day(Weekday::Monday, &[("09:00", "13:00"), ("12:00", "15:00")])],
            "intervals_overlap",
        ),
        (
            "out of order",
            vec![day(Weekday::Monday, &[("14:00", "16:00"), ("09:00", "12:00")])],
            "intervals_overlap",
        ),
        (
            "ends before it starts",
            vec![day(Weekday::Monday, &[("13:00", "09:00")])],
            "interval_order",
        ),
        (
            "empty",
            vec![day(Weekday::Monday, &[("09:00", "09:00")])],
            "interval_order",
        ),
        (
            "past midnight",
            vec![day(Weekday::Monday, &[("22:00", "24:00")])],
            "time_format",
        ),
        (
            "bad minutes",
            vec![day(Weekday::Monday, &[("09:75", "10:00")])],
            "time_format",
        ),
        (
            "no leading zero",
            vec![day(Weekday::Monday, &[("9:00", "10:00")])],
            "time_format",
        ),
        (
            "seconds",
            vec![day(Weekday::Monday, &[("09:00:00", "10:00")])],
            "time_format",
        ),
        (
            "overlong time",
            vec![day(Weekday::Monday, &[(&*"0".repeat(5000), "10:00")])],
            "time_format",
        ),
        (
            "a day twice",
            vec![
                day(Weekday::Monday, &[("09:00", "10:00")]),
                day(Weekday::Monday, &[("11:00", "12:00")]),
            ],
            "duplicate_day",
        ),
        (
            "too many intervals",
            vec![day(
                Weekday::Friday,
                &[
                    ("01:00", "02:00"),
                    ("03:00", "04:00"),
                    ("05:00", "06:00"),
                    ("07:00", "08:00"),
                    ("09:00", "10:00"),
                    ("11:00", "12:00"),
                    ("13:00", "14:00"),
                ],
            )],
            "too_many_intervals",
        ),
    ];
    for (what, week, reason) in weeks {
        let before = snapshot(&c.ws);
        let err = c.ws.doctors().set_hours(&m, &doctor.id, &week).unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid, "{what}");
        assert_refused(what, &err, "hours", reason);
        assert!(err.details.contains_key("day"), "{what}: names the day");
        assert_eq!(snapshot(&c.ws), before, "{what} wrote something");
    }
    // Touching intervals are not overlapping.
    c.ws.doctors()
        .set_hours(
            &m,
            &doctor.id,
            &[day(Weekday::Monday, &[("09:00", "13:00"), ("13:00", "17:00")])],
        )
        .unwrap();

    let leaves: Vec<(&str, LeaveInput, &str, &str)> = vec![
        (
            "no such date",
            leave(LeaveSpan::DayOff {
                date: "2026-02-30".into(),
            }),
            "date",
            "invalid_date",
        ),
        (
            "not a date",
            leave(LeaveSpan::DayOff {
                date: "tomorrow".into(),
            }),
            "date",
            "invalid_date",
        ),
        (
            "short date",
            leave(LeaveSpan::DayOff {
                date: "2026-3-9".into(),
            }),
            "date",
            "invalid_date",
        ),
        (
            "holiday backwards",
            leave(LeaveSpan::Holiday {
                from: "2026-03-10".into(),
                to: "2026-03-09".into(),
            }),
            "to",
            "date_order",
        ),
        (
            "holiday of two years",
            leave(LeaveSpan::Holiday {
                from: "2026-01-01".into(),
                to: "2027-12-31".into(),
            }),
            "to",
            "out_of_range",
        ),
        (
            "late start at a bad time",
            leave(LeaveSpan::LateStart {
                date: "2026-03-09".into(),
                starts_at: "10h30".into(),
            }),
            "starts_at",
            "time_format",
        ),
        (
            "overlong note",
            LeaveInput {
                note: "n".repeat(301),
                ..leave(LeaveSpan::DayOff {
                    date: "2026-03-09".into(),
                })
            },
            "note",
            "too_long",
        ),
    ];
    for (what, bad, field, reason) in leaves {
        let before = snapshot(&c.ws);
        let err = c.ws.doctors().add_leave(&m, &doctor.id, &bad).unwrap_err();
        assert_refused(what, &err, field, reason);
        assert_eq!(snapshot(&c.ws), before, "{what} wrote something");
    }

    // Unknown things are not found; cancelling twice is refused; a retired doctor gets no hours.
    let before = snapshot(&c.ws);
    let nobody = DoctorId::new("0190aaaa-0000-7000-8000-000000000000");
    assert_code(c.ws.doctors().set_hours(&m, &nobody, &[]), ErrorCode::NotFound);
    assert_code(c.ws.doctors().get(&m, &nobody), ErrorCode::NotFound);
    assert_code(
        c.ws.doctors().cancel_leave(&m, &doctor.id, &LeaveId::new("nope")),
        ErrorCode::NotFound,
    );
    assert_code(
        c.ws.doctors().update_chair(
            &m,
            &ChairId::new("nope"),
            &ChairUpdate {
                label_en: "x".into(),
                label_ar: "س".into(),
                status: Status::Active,
            },
        ),
        ErrorCode::NotFound,
    );
    let overlong_chair = ChairInput {
        label_en: long.clone(),
        label_ar: "س".into(),
    };
    let err = c.ws.doctors().add_chair(&m, &overlong_chair).unwrap_err();
    assert_refused("overlong chair label", &err, "label_en", "too_long");
    let err =
        c.ws.doctors()
            .availability(&m, &doctor.id, "2026-13-01")
            .unwrap_err();
    assert_refused("no such month", &err, "date", "invalid_date");
    assert_eq!(snapshot(&c.ws), before);
    let off =
        c.ws.doctors()
            .add_leave(
                &m,
                &doctor.id,
                &leave(LeaveSpan::DayOff {
                    date: "2026-03-09".into(),
                }),
            )
            .unwrap();
    c.ws.doctors().cancel_leave(&m, &doctor.id, &off.id).unwrap();
    let err = c.ws.doctors().cancel_leave(&m, &doctor.id, &off.id).unwrap_err();
    assert_refused("cancelled twice", &err, "leave_id", "already_cancelled");
    let other = c.ws.doctors().register(&m, &input(&free, "B-2")).unwrap();
    assert_code(
        c.ws.doctors().cancel_leave(&m, &other.id, &off.id),
        ErrorCode::NotFound,
    );
    let retire = DoctorUpdate {
        name_en: other.name_en.clone(),
        name_ar: other.name_ar.clone(),
        specialty: other.specialty,
        licence: other.licence.clone(),
        status: Status::Retired,
    };
    c.ws.doctors().update(&m, &other.id, &retire).unwrap();
    let err = c.ws.doctors().set_hours(&m, &other.id, &[]).unwrap_err();
    assert_refused("hours of a retired doctor", &err, "doctor_id", "doctor_retired");
    // Changing a licence to one another doctor holds is refused; keeping one's own is fine.
    let err =
        c.ws.doctors()
            .update(
                &m,
                &other.id,
                &DoctorUpdate {
                    licence: "a-1".into(),
                    ..retire.clone()
                },
            )
            .unwrap_err();
    assert_refused("a licence another doctor holds", &err, "licence", "licence_taken");
}

#[test]
fn availability_follows_hours_and_leave() {
    let mut c = clinic();
    let m = c.manager.clone();
    let d = c.ws.doctors().register(&m, &input(&c.doctors[0], "A-1")).unwrap();
    // 2026-03-02 is a Monday.
    let week: Vec<DayHours> = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
    ]
    .into_iter()
    .map(|w| day(w, &[("09:00", "13:00"), ("14:00", "18:00")]))
    .chain([day(Weekday::Saturday, &[("10:00", "14:00")])])
    .collect();
    c.ws.doctors().set_hours(&m, &d.id, &week).unwrap();
    let full = pairs(&[("09:00", "13:00"), ("14:00", "18:00")]);
    let on = |c: &mut Clinic, date: &str| {
        let a = c.ws.doctors().availability(&m, &d.id, date).unwrap();
        spans(&a)
    };
    assert_eq!(on(&mut c, "2026-03-02"), full);
    assert_eq!(on(&mut c, "2026-03-06"), pairs(&[]), "no hours on Fridays");
    assert_eq!(on(&mut c, "2026-03-07"), pairs(&[("10:00", "14:00")]));

    // A late start inside the first interval cuts it; one in the break drops it.
    let add = |c: &mut Clinic, span: LeaveSpan| c.ws.doctors().add_leave(&m, &d.id, &leave(span)).unwrap();
    add(
        &mut c,
        LeaveSpan::LateStart {
            date: "2026-03-02".into(),
            starts_at: "10:30".into(),
        },
    );
    assert_eq!(
        on(&mut c, "2026-03-02"),
        pairs(&[("10:30", "13:00"), ("14:00", "18:00")])
    );
    let later = add(
        &mut c,
        LeaveSpan::LateStart {
            date: "2026-03-02".into(),
            starts_at: "13:30".into(),
        },
    );
    assert_eq!(
        on(&mut c, "2026-03-02"),
        pairs(&[("14:00", "18:00")]),
        "the latest start wins"
    );
    assert_eq!(on(&mut c, "2026-03-03"), full, "a late start is one day only");
    // Starting after the day's hours leaves nothing.
    add(
        &mut c,
        LeaveSpan::LateStart {
            date: "2026-03-04".into(),
            starts_at: "18:00".into(),
        },
    );
    assert_eq!(on(&mut c, "2026-03-04"), pairs(&[]));

    // A holiday over several days, across a weekend; the day after is a working day again.
    let holiday = add(
        &mut c,
        LeaveSpan::Holiday {
            from: "2026-03-12".into(),
            to: "2026-03-17".into(),
        },
    );
    for date in ["2026-03-12", "2026-03-14", "2026-03-16", "2026-03-17"] {
        let a = c.ws.doctors().availability(&m, &d.id, date).unwrap();
        assert_eq!(spans(&a), pairs(&[]), "{date}");
        assert_eq!(
            a.leave.iter().map(|l| &l.id).collect::<Vec<_>>(),
            [&holiday.id],
            "{date}"
        );
    }
    assert_eq!(on(&mut c, "2026-03-11"), full);
    assert_eq!(on(&mut c, "2026-03-18"), full);

    // A day off, then cancelled: the day comes back. Cancelling the later start restores the
    // earlier one.
    let off = add(
        &mut c,
        LeaveSpan::DayOff {
            date: "2026-03-09".into(),
        },
    );
    assert_eq!(on(&mut c, "2026-03-09"), pairs(&[]));
    c.ws.doctors().cancel_leave(&m, &d.id, &off.id).unwrap();
    assert_eq!(on(&mut c, "2026-03-09"), full);
    c.ws.doctors().cancel_leave(&m, &d.id, &later.id).unwrap();
    assert_eq!(
        on(&mut c, "2026-03-02"),
        pairs(&[("10:30", "13:00"), ("14:00", "18:00")])
    );
    c.ws.doctors().cancel_leave(&m, &d.id, &holiday.id).unwrap();
    assert_eq!(on(&mut c, "2026-03-16"), full);
    let listed = c.ws.doctors().get(&m, &d.id).unwrap().leave;
    assert_eq!(listed.len(), 5, "cancelled leave stays listed");
    assert_eq!(listed.iter().filter(|l| l.cancelled_at.is_some()).count(), 3);

    // A new week replaces the old one whole.
    c.ws.doctors()
        .set_hours(&m, &d.id, &[day(Weekday::Friday, &[("08:00", "12:00")])])
        .unwrap();
    assert_eq!(on(&mut c, "2026-03-09"), pairs(&[]));
    assert_eq!(on(&mut c, "2026-03-06"), pairs(&[("08:00", "12:00")]));
    // A retired doctor works no more.
    let retire = DoctorUpdate {
        name_en: d.name_en.clone(),
        name_ar: d.name_ar.clone(),
        specialty: d.specialty,
        licence: d.licence.clone(),
        status: Status::Retired,
    };
    c.ws.doctors().update(&m, &d.id, &retire).unwrap();
    assert_eq!(on(&mut c, "2026-03-06"), pairs(&[]));
}

/// The payloads' JSON is signed forever: these bytes must never change.
#[test]
fn golden_payloads() {
    let doctor = DoctorId::new("0190d0c0-0000-7000-8000-000000000001");
    let profile = DoctorProfile {
        name_en: "Lina Haddad".into(),
        name_ar: "لينا حداد".into(),
        specialty: Specialty::PediatricDentistry,
        licence: "JMC-1234".into(),
    };
    let leave_id = LeaveId::new("0190d0c0-0000-7000-8000-000000000002");
    let chair = ChairId::new("0190d0c0-0000-7000-8000-000000000003");
    let cases: Vec<(Event, &str)> = vec![
        (
            DoctorRegistered {
                doctor_id: doctor.clone(),
                user_id: UserId::new("0190d0c0-0000-7000-8000-0000000000aa"),
                profile: profile.clone(),
            }
            .into(),
            r#"{"doctor_id":"0190d0c0-0000-7000-8000-000000000001","profile":{"licence":"JMC-1234","name_ar":"لينا حداد","name_en":"Lina Haddad","specialty":"pediatric_dentistry"},"user_id":"0190d0c0-0000-7000-8000-0000000000aa"}"#,
        ),
        (
            DoctorUpdated {
                doctor_id: doctor.clone(),
                profile,
                status: Status::Retired,
            }
            .into(),
            r#"{"doctor_id":"0190d0c0-0000-7000-8000-000000000001","profile":{"licence":"JMC-1234","name_ar":"لينا حداد","name_en":"Lina Haddad","specialty":"pediatric_dentistry"},"status":"retired"}"#,
        ),
        (
            DoctorHoursSet {
                doctor_id: doctor.clone(),
                week: vec![
                    day(Weekday::Monday, &[("09:00", "13:00"), ("14:00", "18:00")]),
                    day(Weekday::Saturday, &[]),
                ],
            }
            .into(),
            r#"{"doctor_id":"0190d0c0-0000-7000-8000-000000000001","week":[{"day":"monday","intervals":[{"end":"13:00","start":"09:00"},{"end":"18:00","start":"14:00"}]},{"day":"saturday","intervals":[]}]}"#,
        ),
        (
            DoctorLeaveAdded {
                leave_id: leave_id.clone(),
                doctor_id: doctor.clone(),
                leave: LeaveSpan::Holiday {
                    from: "2026-03-12".into(),
                    to: "2026-03-17".into(),
                },
                note: "Umrah".into(),
            }
            .into(),
            r#"{"doctor_id":"0190d0c0-0000-7000-8000-000000000001","leave":{"from":"2026-03-12","to":"2026-03-17","type":"holiday"},"leave_id":"0190d0c0-0000-7000-8000-000000000002","note":"Umrah"}"#,
        ),
        (
            DoctorLeaveAdded {
                leave_id: leave_id.clone(),
                doctor_id: doctor.clone(),
                leave: LeaveSpan::LateStart {
                    date: "2026-03-02".into(),
                    starts_at: "10:30".into(),
                },
                note: String::new(),
            }
            .into(),
            r#"{"doctor_id":"0190d0c0-0000-7000-8000-000000000001","leave":{"date":"2026-03-02","starts_at":"10:30","type":"late_start"},"leave_id":"0190d0c0-0000-7000-8000-000000000002","note":""}"#,
        ),
        (
            DoctorLeaveAdded {
                leave_id: leave_id.clone(),
                doctor_id: doctor.clone(),
                leave: LeaveSpan::DayOff {
                    date: "2026-03-09".into(),
                },
                note: "sick".into(),
            }
            .into(),
            r#"{"doctor_id":"0190d0c0-0000-7000-8000-000000000001","leave":{"date":"2026-03-09","type":"day_off"},"leave_id":"0190d0c0-0000-7000-8000-000000000002","note":"sick"}"#,
        ),
        (
            DoctorLeaveCancelled {
                leave_id,
                doctor_id: doctor,
            }
            .into(),
            r#"{"doctor_id":"0190d0c0-0000-7000-8000-000000000001","leave_id":"0190d0c0-0000-7000-8000-000000000002"}"#,
        ),
        (
            ChairAdded {
                chair_id: chair.clone(),
                label_en: "Chair 1".into(),
                label_ar: "كرسي ١".into(),
            }
            .into(),
            r#"{"chair_id":"0190d0c0-0000-7000-8000-000000000003","label_ar":"كرسي ١","label_en":"Chair 1"}"#,
        ),
        (
            ChairUpdated {
                chair_id: chair,
                label_en: "Chair 1".into(),
                label_ar: "كرسي ١".into(),
                status: Status::Active,
            }
            .into(),
            r#"{"chair_id":"0190d0c0-0000-7000-8000-000000000003","label_ar":"كرسي ١","label_en":"Chair 1","status":"active"}"#,
        ),
    ];
    for (event, golden) in cases {
        let bytes = event.payload().unwrap();
        assert_eq!(std::str::from_utf8(&bytes).unwrap(), golden, "{}", event.kind());
        assert_eq!(event.kind_version(), 1, "{}", event.kind());
        // And read back as the same payload.
        let back = dentpro_core::registry::decode(event.kind(), 1, golden.as_bytes()).unwrap();
        assert_eq!(back.payload().unwrap(), bytes);
    }
}

/// A busy doctors area: rebuild gives the same tables, verification passes.
#[test]
fn rebuild_and_verification_match_after_doctors_records() {
    let mut c = clinic();
    let m = c.manager.clone();
    for (i, user) in c.doctors.clone().iter().enumerate() {
        let d =
            c.ws.doctors()
                .register(&m, &input(user, &format!("L-{i}")))
                .unwrap();
        c.ws.doctors()
            .set_hours(&m, &d.id, &[day(Weekday::Monday, &[("09:00", "13:00")])])
            .unwrap();
        let l =
            c.ws.doctors()
                .add_leave(
                    &m,
                    &d.id,
                    &leave(LeaveSpan::DayOff {
                        date: "2026-03-09".into(),
                    }),
                )
                .unwrap();
        if i == 1 {
            c.ws.doctors().cancel_leave(&m, &d.id, &l.id).unwrap();
        }
    }
    let chair =
        c.ws.doctors()
            .add_chair(
                &m,
                &ChairInput {
                    label_en: "Chair 2".into(),
                    label_ar: "كرسي ٢".into(),
                },
            )
            .unwrap();
    c.ws.doctors()
        .update_chair(
            &m,
            &chair.id,
            &ChairUpdate {
                label_en: "Chair 2".into(),
                label_ar: "كرسي ٢".into(),
                status: Status::Retired,
            },
        )
        .unwrap();
    let conn = c.ws.ledger().conn();
    assert_eq!(audit::compare_projections(conn).unwrap(), None);
    let rebuilt = audit::rebuild(conn).unwrap();
    assert_eq!(
        audit::dump_projections(&rebuilt).unwrap(),
        audit::dump_projections(conn).unwrap()
    );
    assert_eq!(table_rows(conn, "doctor_hours").len(), 3);
    let report = audit::verify(conn, Some(c.ws.data_dir()), Some(c.ws.device_id())).unwrap();
    assert!(report.ok, "{report:?}");
    // A hand edit of the hours is caught by verification.
    conn.execute("UPDATE doctor_hours SET end_minute = 900", [])
        .unwrap();
    let report = audit::verify(conn, Some(c.ws.data_dir()), Some(c.ws.device_id())).unwrap();
    assert!(!report.ok, "a changed doctor_hours row must fail verification");
}

fn name_of(conn: &Connection, doctor_id: &str) -> Option<String> {
    conn.query_row(
        "SELECT name_en FROM doctors WHERE doctor_id = ?1",
        [doctor_id],
        |r| r.get(0),
    )
    .ok()
}

/// Another desk's records landing before this desk's pending ones replay only the subjects they
/// share: a doctor's week edited at two desks ends as the log orders it, two profiles given one
/// licence number offline leave the first in the log — and a bystander doctor's row is not
/// touched (a hand-planted "canary" survives), then everything equals a full rebuild.
#[test]
fn a_doctor_subject_replays_incrementally() {
    let mut c = clinic();
    let a = c.admin.clone();
    let bystander =
        c.ws.doctors()
            .register(&a, &input(&c.doctors[0], "BY-1"))
            .unwrap();
    let ours =
        c.ws.doctors()
            .register(&a, &input(&c.doctors[1], "LIC-7"))
            .unwrap();
    let our_week = [day(Weekday::Monday, &[("09:00", "12:00")])];
    c.ws.doctors().set_hours(&a, &ours.id, &our_week).unwrap();
    let conn = c.ws.ledger().conn();
    let lis: Vec<i64> = replay::records_about(conn, &format!("doctor:{}", ours.id)).unwrap();
    assert_eq!(lis.len(), 2, "registration and hours are found through the index");
    assert_eq!(replay::records_about(conn, "licence:LIC-7").unwrap(), lis[..1]);
    assert_eq!(
        replay::records_about(conn, &format!("doctor_user:{}", c.doctors[1])).unwrap(),
        lis[..1]
    );

    // The other desk's records reach the server first: hours for our doctor (then ours win, as
    // they come later in the log) — but our doctor's registration is pending too, so theirs
    // apply only after it; instead they set a week for the bystander, and a second profile with
    // our licence number, for another account.
    let mut other = OtherDesk::new();
    let theirs_id = DoctorId::new("0190d0c0-0000-7000-8000-00000000beef");
    let canary = |conn: &Connection| {
        conn.execute(
            "UPDATE doctors SET name_en = 'CANARY' WHERE doctor_id = ?1",
            [&bystander.id],
        )
        .unwrap()
    };
    canary(c.ws.ledger().conn());
    let records = other.write(
        &c.admin_id,
        DoctorRegistered {
            doctor_id: theirs_id.clone(),
            user_id: UserId::new(c.doctors[2].clone()),
            profile: DoctorProfile {
                name_en: "Omar Said".into(),
                name_ar: "عمر سعيد".into(),
                specialty: Specialty::GeneralDentistry,
                licence: "LIC-7".into(),
            },
        }
        .into(),
    );
    pull_into(&mut c.ws, &records);
    let conn = c.ws.ledger().conn();
    assert_eq!(
        name_of(conn, &theirs_id).as_deref(),
        Some("Omar Said"),
        "first in the log wins"
    );
    assert_eq!(name_of(conn, &ours.id), None, "ours no longer applies");
    assert!(table_rows(conn, "doctor_hours").is_empty(), "nor do its hours");
    assert_eq!(
        name_of(conn, &bystander.id).as_deref(),
        Some("CANARY"),
        "the bystander doctor was not replayed"
    );
    conn.execute(
        "UPDATE doctors SET name_en = 'Lina Haddad' WHERE doctor_id = ?1",
        [&bystander.id],
    )
    .unwrap();
    assert_eq!(audit::compare_projections(conn).unwrap(), None);
    // The server refuses our second LIC-7 (and its hours), as it would: it does not apply there.
    let ours_id = ours.id.to_string();
    push(&mut c.ws, |r| {
        String::from_utf8_lossy(&r.body.payload).contains(&ours_id)
    });
    assert_eq!(audit::compare_projections(c.ws.ledger().conn()).unwrap(), None);

    // Two desks set the bystander's week offline: theirs comes first in the log, ours (pending)
    // applies over it.
    c.ws.doctors()
        .set_hours(&a, &bystander.id, &[day(Weekday::Sunday, &[("10:00", "11:00")])])
        .unwrap();
    canary(c.ws.ledger().conn());
    let chair =
        c.ws.doctors()
            .add_chair(
                &a,
                &ChairInput {
                    label_en: "C".into(),
                    label_ar: "ك".into(),
                },
            )
            .unwrap();
    let records = other.write(
        &c.admin_id,
        DoctorHoursSet {
            doctor_id: bystander.id.clone(),
            week: vec![day(Weekday::Tuesday, &[("08:00", "09:00")])],
        }
        .into(),
    );
    c.ws.ledger()
        .conn()
        .execute("UPDATE chairs SET label_en = 'CANARY'", [])
        .unwrap();
    pull_into(&mut c.ws, &records);
    let conn = c.ws.ledger().conn();
    let week = dentpro_core::doctors::week(conn, &bystander.id).unwrap();
    assert_eq!(
        week,
        vec![day(Weekday::Sunday, &[("10:00", "11:00")])],
        "ours comes later in the log"
    );
    assert_ne!(
        name_of(conn, &bystander.id).as_deref(),
        Some("CANARY"),
        "the doctor was replayed"
    );
    let label: String = conn
        .query_row(
            "SELECT label_en FROM chairs WHERE chair_id = ?1",
            [&chair.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(label, "CANARY", "the chair was not replayed");
    conn.execute("UPDATE chairs SET label_en = 'C'", []).unwrap();
    assert_eq!(audit::compare_projections(conn).unwrap(), None);
    let report = audit::verify(conn, Some(c.ws.data_dir()), Some(c.ws.device_id())).unwrap();
    assert!(report.ok, "{report:?}");
}
