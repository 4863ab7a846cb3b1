//! The doctors area through the real branch server: a manager's profiles, hours, leave and
//! chairs are accepted and reach the doctor's machine; a tampered desk's doctors records from a
//! role that may not write them, or breaking the area's rules, are refused and applied nowhere.

mod support;

use dentpro_core::doctors::{
    ChairAdded, ChairId, ChairInput, ChairUpdated, DayHours, DoctorHoursSet, DoctorId, DoctorInput,
    DoctorProfile, DoctorRegistered, DoctorUpdated, Interval, LeaveInput, LeaveSpan, Specialty, Status,
    Weekday,
};
use dentpro_core::ids::UserId;
use dentpro_core::permissions::Role;
use dentpro_core::{accounts, test_support};
use support::*;

fn user_id(station: &Station, username: &str) -> dentpro_core::ids::UserId {
    accounts::user_by_username(&station.db(), username)
        .unwrap()
        .unwrap()
        .id
}

fn monday(intervals: &[(&str, &str)]) -> Vec<DayHours> {
    vec![DayHours {
        day: Weekday::Monday,
        intervals: intervals
            .iter()
            .map(|(s, e)| Interval {
                start: (*s).into(),
                end: (*e).into(),
            })
            .collect(),
    }]
}

fn refusals(b: &Branch) -> Vec<String> {
    b.server
        .db()
        .prepare(
            "SELECT r.kind || ' ' || l.reason FROM record_log l JOIN records r ON r.local_index = l.local_index
             WHERE l.verdict = 'refused' ORDER BY l.log_index",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_managers_doctors_records_are_accepted_and_a_tampered_desks_are_refused() {
    let mut b = Branch::new();
    let admin = b.reception.login("admin");
    b.reception
        .ws()
        .accounts()
        .create_user(&admin, &new_user("mona", Role::Manager))
        .unwrap();
    let mona = b.reception.login("mona");
    let dana = user_id(&b.reception, "dana");
    let (doctor, chair) = {
        let mut ws = b.reception.ws();
        let mut doctors = ws.doctors();
        let input = DoctorInput {
            user_id: UserId::new(dana.clone()),
            name_en: "Dana Khoury".into(),
            name_ar: "دانة خوري".into(),
            specialty: Specialty::Endodontics,
            licence: "JMC-77".into(),
        };
        let doctor = doctors.register(&mona, &input).unwrap();
        doctors
            .set_hours(
                &mona,
                &doctor.id,
                &monday(&[("09:00", "13:00"), ("14:00", "17:00")]),
            )
            .unwrap();
        let late = LeaveInput {
            span: LeaveSpan::LateStart {
                date: "2026-03-02".into(),
                starts_at: "11:00".into(),
            },
            note: String::new(),
        };
        doctors.add_leave(&mona, &doctor.id, &late).unwrap();
        let chair = ChairInput {
            label_en: "Chair 1".into(),
            label_ar: "كرسي ١".into(),
        };
        let chair = doctors.add_chair(&mona, &chair).unwrap();
        (doctor, chair)
    };
    let report = b.reception.sync().unwrap();
    assert_eq!(report.refused, 0, "{report:?}");
    // The doctor's machine reads them, as the server applied them.
    b.doctor.sync().unwrap();
    let dana_session = b.doctor.login("dana");
    let day = b
        .doctor
        .ws()
        .doctors()
        .availability(&dana_session, &doctor.id, "2026-03-02")
        .unwrap();
    let spans: Vec<(String, String)> = day.intervals.into_iter().map(|i| (i.start, i.end)).collect();
    assert_eq!(
        spans,
        [("11:00".into(), "13:00".into()), ("14:00".into(), "17:00".into())]
    );
    assert_eq!(b.doctor.ws().doctors().chairs(&dana_session).unwrap().len(), 1);

    // A tampered reception desk: a receptionist's profile edit (a receptionist may not edit
    // doctors), an admin's profile for the cashier's account (not a doctor), and hours that
    // overlap, signed by an admin.
    let rita = user_id(&b.reception, "rita");
    let carl = user_id(&b.reception, "carl");
    let admin_id = user_id(&b.reception, "admin");
    let profile = DoctorProfile {
        name_en: "Forged".into(),
        name_ar: "مزور".into(),
        specialty: Specialty::OralSurgery,
        licence: "FORGED-1".into(),
    };
    b.reception.forge(
        test_support::actor(&rita, Role::Receptionist, None),
        DoctorUpdated {
            doctor_id: doctor.id.clone(),
            profile: profile.clone(),
            status: Status::Retired,
        }
        .into(),
    );
    b.reception.forge(
        test_support::actor(&admin_id, Role::Admin, None),
        DoctorRegistered {
            doctor_id: DoctorId::new("019a0000-0000-7000-8000-00000000d0c7"),
            user_id: UserId::new(carl),
            profile: DoctorProfile {
                licence: "FORGED-2".into(),
                ..profile
            },
        }
        .into(),
    );
    b.reception.forge(
        test_support::actor(&admin_id, Role::Admin, None),
        DoctorHoursSet {
            doctor_id: doctor.id.clone(),
            week: monday(&[("09:00", "13:00"), ("12:00", "15:00")]),
        }
        .into(),
    );
    // And chairs whose labels the desk's rules would not have signed: one with spaces around
    // its label, one renamed to nothing.
    b.reception.forge(
        test_support::actor(&admin_id, Role::Admin, None),
        ChairAdded {
            chair_id: ChairId::new("019a0000-0000-7000-8000-0000000c4a12"),
            label_en: " Chair 2".into(),
            label_ar: "كرسي ٢".into(),
        }
        .into(),
    );
    b.reception.forge(
        test_support::actor(&admin_id, Role::Admin, None),
        ChairUpdated {
            chair_id: chair.id.clone(),
            label_en: "Chair 1".into(),
            label_ar: String::new(),
            status: Status::Active,
        }
        .into(),
    );
    let expected = [
        "doctor.updated forbidden: a receptionist may not doctor_edit",
        "doctor.registered not_a_doctor",
        "doctor.hours_set invalid_payload",
        "chair.added invalid_payload",
        "chair.updated invalid_payload",
    ];
    let report = b.reception.sync().unwrap();
    assert_eq!(report.refused as usize, expected.len(), "{report:?}");
    let reasons = refusals(&b);
    assert_eq!(reasons.len(), expected.len(), "{reasons:?}");
    for (reason, start) in reasons.iter().zip(expected) {
        assert!(reason.starts_with(start), "{reasons:?}");
    }
    // Applied nowhere: the server's, the desk's and the doctor's tables agree with the accepted
    // records only.
    b.doctor.sync().unwrap();
    let accepted_only = |conn: &rusqlite::Connection| {
        let rows: Vec<(String, String, String)> = conn
            .prepare("SELECT name_en, licence, status FROM doctors")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows, [("Dana Khoury".into(), "JMC-77".into(), "active".into())]);
        let hours: i64 = conn
            .query_row("SELECT count(*) FROM doctor_hours", [], |r| r.get(0))
            .unwrap();
        assert_eq!(hours, 2);
        let chairs: Vec<(String, String)> = conn
            .prepare("SELECT label_en, label_ar FROM chairs")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(chairs, [("Chair 1".into(), "كرسي ١".into())]);
    };
    accepted_only(&b.server.db());
    accepted_only(&b.reception.db());
    accepted_only(&b.doctor.db());
    for s in [&b.reception, &b.doctor] {
        assert_eq!(dentpro_core::audit::compare_projections(&s.db()).unwrap(), None);
    }
}
