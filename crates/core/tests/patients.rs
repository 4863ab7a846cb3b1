//! Patients: registration in either script, validation that changes nothing, edits recorded
//! field by field, audited openings, type-ahead search, file numbers across workstations.

mod common;

use chrono::Duration;
use common::*;
use dentpro_core::audit::AuditFilter;
use dentpro_core::clock::Clock;
use dentpro_core::demo::demo_patient;
use dentpro_core::ids::{PatientId, SessionId, UserId};
use dentpro_core::patients::{self, EditedField, FieldChange, PatientInput, Sex};
use dentpro_core::permissions::Role;
use dentpro_core::{ErrorCode, Workstation};
use std::collections::HashSet;

struct Clinic {
    _dir: tempfile::TempDir,
    clock: dentpro_core::clock::ManualClock,
    ws: Workstation,
    desk: SessionId,
    doctor: SessionId,
    doctor_id: UserId,
}

fn clinic() -> Clinic {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let (mut ws, admin) = set_up(dir.path(), &clock);
    let mut desk_user = new_user("desk", Role::Receptionist);
    desk_user.display_name = "Rami Saleh".into();
    ws.accounts().create_user(&admin.session_id, &desk_user).unwrap();
    let mut doc_user = new_user("doc", Role::Doctor);
    doc_user.display_name = "Dr. Omar Khalil".into();
    let doctor_id = ws
        .accounts()
        .create_user(&admin.session_id, &doc_user)
        .unwrap()
        .id;
    ws.logout(&admin.session_id).unwrap();
    let desk = ws.login("desk", PASSWORD).unwrap().session_id;
    let doctor = ws.login("doc", PASSWORD).unwrap().session_id;
    Clinic {
        _dir: dir,
        clock,
        ws,
        desk,
        doctor,
        doctor_id,
    }
}

fn input(name_en: &str, name_ar: &str, phone: &str) -> PatientInput {
    PatientInput {
        name_en: name_en.into(),
        name_ar: name_ar.into(),
        date_of_birth: "1985-06-15".into(),
        sex: Sex::Female,
        phone: phone.into(),
        national_id: None,
        address: "Rainbow St, Amman".into(),
        emergency_contact: String::new(),
        allergies: String::new(),
        chronic_diseases: String::new(),
        current_medications: String::new(),
        medical_history: String::new(),
    }
}

fn counts(ws: &Workstation) -> (i64, i64, Vec<String>) {
    let conn = ws.ledger().conn();
    (
        count(conn, "SELECT count(*) FROM records"),
        count(conn, "SELECT count(*) FROM patients"),
        table_rows(conn, "patients"),
    )
}

fn ids(c: &mut Clinic, q: &str) -> HashSet<PatientId> {
    c.ws.patients()
        .search(&c.desk, q, 100)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect()
}

fn has(c: &mut Clinic, q: &str, id: &PatientId) -> bool {
    ids(c, q).contains(id)
}

fn names(hits: &[patients::PatientSummary]) -> HashSet<String> {
    hits.iter()
        .map(|p| {
            if p.name_en.is_empty() {
                p.name_ar.clone()
            } else {
                p.name_en.clone()
            }
        })
        .collect()
}

#[test]
fn registers_with_a_name_in_either_script() {
    let mut c = clinic();
    let ar =
        c.ws.patients()
            .register(&c.desk, &input("", "سارة خليل", "+962 79 555 0101"))
            .unwrap();
    assert_eq!(ar.fields.name_en, "");
    assert_eq!(ar.fields.name_ar, "سارة خليل");
    let en =
        c.ws.patients()
            .register(&c.desk, &input("  John Smith ", "", "0791234567"))
            .unwrap();
    assert_eq!(en.fields.name_en, "John Smith", "trimmed");
    assert_eq!(en.fields.name_ar, "");
    assert_ne!(ar.file_number, en.file_number);
    let desk_id = c.ws.status(Some(&c.desk)).unwrap().session.unwrap().user_id;
    assert_eq!(ar.registered_by, desk_id);
    let (kind, user, role) = last_record(&c.ws);
    assert_eq!(
        (kind.as_str(), user.as_deref(), role.as_deref()),
        ("patient.registered", Some(desk_id.as_str()), Some("receptionist"))
    );
    assert_eq!(patients::get(c.ws.ledger().conn(), &ar.id).unwrap(), ar);
    // Both are found, each in its own script.
    assert_eq!(
        names(&c.ws.patients().search(&c.desk, "سارة", 10).unwrap()),
        HashSet::from(["سارة خليل".to_owned()])
    );
    assert_eq!(
        names(&c.ws.patients().search(&c.desk, "john", 10).unwrap()),
        HashSet::from(["John Smith".to_owned()])
    );
}

#[test]
fn invalid_input_is_refused_and_changes_nothing() {
    let mut c = clinic();
    let existing =
        c.ws.patients()
            .register(&c.desk, &input("Lina Haddad", "لينا حداد", "+962791112233"))
            .unwrap();
    let today = c.clock.business_date();
    let tomorrow = (today + Duration::days(1)).format("%Y-%m-%d").to_string();
    type Edit = Box<dyn Fn(&mut PatientInput)>;
    let cases: Vec<(&str, &str, Edit)> = vec![
        (
            "name_en",
            "name_required",
            Box::new(|p| {
                p.name_en = "  ".into();
                p.name_ar = String::new();
            }),
        ),
        ("name_en", "too_long", Box::new(|p| p.name_en = "A".repeat(101))),
        (
            "date_of_birth",
            "date_in_future",
            Box::new(move |p| p.date_of_birth = tomorrow.clone()),
        ),
        (
            "date_of_birth",
            "invalid_date",
            Box::new(|p| p.date_of_birth = "2020-13-01".into()),
        ),
        (
            "date_of_birth",
            "invalid_date",
            Box::new(|p| p.date_of_birth = "15/06/1985".into()),
        ),
        (
            "date_of_birth",
            "date_too_old",
            Box::new(|p| p.date_of_birth = "1899-12-31".into()),
        ),
        ("phone", "phone_format", Box::new(|p| p.phone = "12ab".into())),
        ("phone", "phone_format", Box::new(|p| p.phone = "123456".into())),
        (
            "phone",
            "phone_format",
            Box::new(|p| p.phone = "+962+79 1234567".into()),
        ),
        (
            "phone",
            "phone_format",
            Box::new(|p| p.phone = "1234567890123456".into()),
        ),
        (
            "national_id",
            "national_id_format",
            Box::new(|p| p.national_id = Some("12".into())),
        ),
        (
            "national_id",
            "national_id_format",
            Box::new(|p| p.national_id = Some("AB-12345".into())),
        ),
        (
            "national_id",
            "national_id_format",
            Box::new(|p| p.national_id = Some("X".repeat(21))),
        ),
        (
            "allergies",
            "too_long",
            Box::new(|p| p.allergies = "x".repeat(4001)),
        ),
        // Seven digits and a long run of spaces: digits alone did not bound the text.
        (
            "phone",
            "too_long",
            Box::new(|p| p.phone = format!("079{}1234567", " ".repeat(100_000))),
        ),
        // Characters, not bytes: 4000 Arabic letters are allowed, 4001 are not.
        (
            "medical_history",
            "too_long",
            Box::new(|p| p.medical_history = "ب".repeat(4001)),
        ),
    ];
    for (field, reason, edit) in &cases {
        let mut bad = input("Sara Nasser", "سارة ناصر", "+962795550000");
        edit(&mut bad);
        let before = counts(&c.ws);
        let err = assert_code(c.ws.patients().register(&c.desk, &bad), ErrorCode::Invalid);
        assert_eq!(
            err.details.get("field").map(String::as_str),
            Some(*field),
            "{err:?}"
        );
        assert_eq!(
            err.details.get("reason").map(String::as_str),
            Some(*reason),
            "{err:?}"
        );
        assert_eq!(
            counts(&c.ws),
            before,
            "refused registration ({field}/{reason}) changed something"
        );
        // The same input as an edit of an existing file is refused the same way.
        let mut bad_edit = existing.fields.clone();
        edit(&mut bad_edit);
        let err = assert_code(
            c.ws.patients().update(&c.doctor, &existing.id, &bad_edit),
            ErrorCode::Invalid,
        );
        assert_eq!(err.details.get("field").map(String::as_str), Some(*field));
        assert_eq!(
            counts(&c.ws),
            before,
            "refused edit ({field}/{reason}) changed something"
        );
    }
    // Today is fine; so are phones written with spaces, dashes, brackets or Arabic-Indic digits.
    let mut ok = input("Omar", "", "+962 (79) 123-4567");
    ok.date_of_birth = today.format("%Y-%m-%d").to_string();
    c.ws.patients().register(&c.desk, &ok).unwrap();
    c.ws.patients()
        .register(&c.desk, &input("Omar Two", "", "٠٧٩١٢٣٤٥٦٧"))
        .unwrap();
    let mut with_id = input("Omar Three", "", "0791234567");
    with_id.national_id = Some(" ab12345 ".into());
    assert_eq!(
        c.ws.patients()
            .register(&c.desk, &with_id)
            .unwrap()
            .fields
            .national_id
            .as_deref(),
        Some("AB12345")
    );
}

#[test]
fn an_edit_records_only_the_changed_fields() {
    let mut c = clinic();
    let p =
        c.ws.patients()
            .register(&c.desk, &input("Huda Jaber", "هدى جابر", "+962791234567"))
            .unwrap();
    let mut edited = p.fields.clone();
    edited.allergies = "Penicillin".into();
    edited.phone = "+962797654321".into();
    edited.national_id = Some("N1234567".into());
    let before = record_count(&c.ws);
    let updated = c.ws.patients().update(&c.doctor, &p.id, &edited).unwrap();
    assert_eq!(record_count(&c.ws), before + 1);
    assert_eq!(updated.fields, edited);
    assert_eq!(updated.registered_at, p.registered_at);
    let payload: String =
        c.ws.ledger()
            .conn()
            .query_row(
                "SELECT CAST(payload AS TEXT) FROM records ORDER BY local_index DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let changes: Vec<FieldChange> = serde_json::from_value(v["changes"].clone()).unwrap();
    assert_eq!(
        changes,
        vec![
            FieldChange {
                field: "phone".into(),
                from: "+962791234567".into(),
                to: "+962797654321".into()
            },
            FieldChange {
                field: "national_id".into(),
                from: String::new(),
                to: "N1234567".into()
            },
            FieldChange {
                field: "allergies".into(),
                from: String::new(),
                to: "Penicillin".into()
            },
        ]
    );
    // Sending the file back unchanged (or only with extra spaces) records nothing.
    let before = record_count(&c.ws);
    let mut same = edited.clone();
    same.allergies = " Penicillin ".into();
    assert_eq!(
        c.ws.patients().update(&c.doctor, &p.id, &same).unwrap().fields,
        edited
    );
    assert_eq!(record_count(&c.ws), before);
    // Each edit replaces the patient's search row: still one row, whose terms are those of
    // the file as it is now (what a rebuild from the records indexes), none of the old phone.
    let conn = c.ws.ledger().conn();
    conn.execute_batch("CREATE VIRTUAL TABLE temp.terms USING fts5vocab(main, patients_fts, instance)")
        .unwrap();
    assert_eq!(count(conn, "SELECT count(DISTINCT doc) FROM temp.terms"), 1);
    assert_eq!(
        count(
            conn,
            "SELECT count(*) FROM temp.terms WHERE term = '962791234567'"
        ),
        0
    );
    assert_eq!(
        count(
            conn,
            "SELECT count(*) FROM temp.terms WHERE term = '962797654321'"
        ),
        1
    );
    assert_eq!(dentpro_core::audit::compare_projections(conn).unwrap(), None);
    // Clearing the national id stores no id.
    let mut cleared = edited.clone();
    cleared.national_id = None;
    assert_eq!(
        c.ws.patients()
            .update(&c.doctor, &p.id, &cleared)
            .unwrap()
            .fields
            .national_id,
        None
    );
    // The search index follows edits: the new phone is found, the old one is not.
    assert_eq!(c.ws.patients().search(&c.desk, "962797654", 10).unwrap().len(), 1);
    assert!(
        c.ws.patients()
            .search(&c.desk, "962791234", 10)
            .unwrap()
            .is_empty()
    );
    // An unknown patient is not found, and nothing is written.
    let before = record_count(&c.ws);
    assert_code(
        c.ws.patients()
            .update(&c.doctor, &"no-such-patient".into(), &edited),
        ErrorCode::NotFound,
    );
    assert_code(
        c.ws.patients().open(&c.doctor, &"no-such-patient".into()),
        ErrorCode::NotFound,
    );
    assert_eq!(record_count(&c.ws), before);
}

#[test]
fn opening_a_file_is_recorded_and_the_history_names_who_did_what() {
    let mut c = clinic();
    let p =
        c.ws.patients()
            .register(&c.desk, &input("Tariq Shami", "طارق شامي", "+962791230000"))
            .unwrap();
    c.clock.advance(Duration::minutes(3));
    let mut edited = p.fields.clone();
    edited.chronic_diseases = "Asthma".into();
    c.ws.patients().update(&c.doctor, &p.id, &edited).unwrap();
    let before = record_count(&c.ws);
    let file = c.ws.patients().open(&c.doctor, &p.id).unwrap();
    assert_eq!(record_count(&c.ws), before + 1);
    let (kind, user, role) = last_record(&c.ws);
    assert_eq!(
        (kind.as_str(), user.as_deref(), role.as_deref()),
        ("patient.viewed", Some(c.doctor_id.as_str()), Some("doctor"))
    );
    assert_eq!(file.patient.fields.chronic_diseases, "Asthma");

    let kinds: Vec<&str> = file.history.iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(kinds, ["patient.registered", "patient.updated", "patient.viewed"]);
    let by: Vec<Option<&str>> = file.history.iter().map(|h| h.by_name.as_deref()).collect();
    assert_eq!(
        by,
        [
            Some("Rami Saleh"),
            Some("Dr. Omar Khalil"),
            Some("Dr. Omar Khalil")
        ]
    );
    assert_eq!(
        file.history[1].changes,
        vec![EditedField {
            field: "chronic_diseases".into(),
            from: String::new(),
            to: "Asthma".into()
        }]
    );
    assert!(file.history[0].changes.is_empty());
    assert!(file.history[0].at < file.history[1].at);

    // The audit trail, filtered by patient, shows the same activity, newest first.
    let admin = c.ws.login("admin", PASSWORD).unwrap().session_id;
    let trail =
        c.ws.audit()
            .trail(
                &admin,
                &AuditFilter {
                    patient_id: Some(p.id.clone()),
                    limit: 50,
                    ..Default::default()
                },
            )
            .unwrap();
    assert_eq!(trail.total, 3);
    let kinds: Vec<&str> = trail.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["patient.viewed", "patient.updated", "patient.registered"]);
    assert_eq!(trail.entries[0].actor_name.as_deref(), Some("Dr. Omar Khalil"));
    assert_eq!(trail.entries[0].patient_name.as_deref(), Some("Tariq Shami"));
    // Filtered by kind: a file opened (left out of the kind index) and one the index holds.
    for (kind, count) in [
        ("patient.viewed", 1),
        ("patient.updated", 1),
        ("patient.registered", 1),
    ] {
        let by_kind = c.ws.audit().trail(
            &admin,
            &AuditFilter {
                kind: Some(kind.into()),
                limit: 50,
                ..Default::default()
            },
        );
        let by_kind = by_kind.unwrap();
        assert_eq!(by_kind.total, count, "{kind}");
        assert!(by_kind.entries.iter().all(|e| e.kind == kind), "{kind}");
    }
    // A denied attempt on the file is part of its trail too.
    let cashier = {
        c.ws.accounts()
            .create_user(&admin, &new_user("cash", Role::Cashier))
            .unwrap();
        c.ws.login("cash", PASSWORD).unwrap().session_id
    };
    assert_code(c.ws.patients().open(&cashier, &p.id), ErrorCode::Forbidden);
    let trail =
        c.ws.audit()
            .trail(
                &admin,
                &AuditFilter {
                    patient_id: Some(p.id.clone()),
                    limit: 50,
                    ..Default::default()
                },
            )
            .unwrap();
    assert_eq!(trail.entries[0].kind, "access.denied");
    assert_eq!(trail.entries[0].actor_role.as_deref(), Some("cashier"));
    // The view itself appears in the next opening's history.
    let again = c.ws.patients().open(&c.desk, &p.id).unwrap();
    assert_eq!(
        again
            .history
            .iter()
            .filter(|h| h.kind == "patient.viewed")
            .count(),
        2
    );
    assert!(!again.earlier_history);
}

#[test]
fn a_file_shows_its_newest_history_and_says_when_there_is_more() {
    let mut c = clinic();
    let p =
        c.ws.patients()
            .register(&c.desk, &input("Hana Yasin", "هنا ياسين", "+962791230001"))
            .unwrap();
    // The registration and 98 openings: 99 entries; one more opening makes 100, all shown.
    let mut file = c.ws.patients().open(&c.desk, &p.id).unwrap();
    for _ in 1..98 {
        file = c.ws.patients().open(&c.desk, &p.id).unwrap();
    }
    assert_eq!(file.history.len(), patients::HISTORY_SHOWN - 1);
    assert!(!file.earlier_history);
    let file = c.ws.patients().open(&c.desk, &p.id).unwrap();
    assert_eq!(file.history.len(), patients::HISTORY_SHOWN);
    assert!(!file.earlier_history);
    assert_eq!(file.history[0].kind, "patient.registered");
    // Two more: the newest 100 are shown, oldest first, and the file says there is more.
    c.clock.advance(Duration::minutes(1));
    let mut edited = p.fields.clone();
    edited.allergies = "Latex".into();
    c.ws.patients().update(&c.doctor, &p.id, &edited).unwrap();
    let file = c.ws.patients().open(&c.desk, &p.id).unwrap();
    assert_eq!(file.history.len(), patients::HISTORY_SHOWN);
    assert!(file.earlier_history);
    assert_eq!(
        file.history[0].kind, "patient.viewed",
        "the registration is the one left out"
    );
    let last_two: Vec<&str> = file.history[98..].iter().map(|h| h.kind.as_str()).collect();
    assert_eq!(last_two, ["patient.updated", "patient.viewed"]);
    assert!(file.history.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn type_ahead_search_in_both_scripts_by_phone_and_by_file_number() {
    let mut c = clinic();
    let ahmad =
        c.ws.patients()
            .register(&c.desk, &input("Ahmad Haddad", "أحمد حداد", "+962 79 123 4567"))
            .unwrap();
    let iman =
        c.ws.patients()
            .register(&c.desk, &input("Iman Saleh", "إيمان صالح", "0795550001"))
            .unwrap();
    let fatima =
        c.ws.patients()
            .register(&c.desk, &input("", "فاطمة الزهراء", "0788881234"))
            .unwrap();
    let ahmed2 =
        c.ws.patients()
            .register(&c.desk, &input("Ahmed Nasser", "احمد ناصر", "0770000002"))
            .unwrap();
    for i in 0..30 {
        c.ws.patients()
            .register(&c.desk, &demo_patient(1000 + i))
            .unwrap();
    }
    // English prefixes, any case, any word.
    assert!(has(&mut c, "ahm", &ahmad.id));
    assert!(has(&mut c, "AHMAD", &ahmad.id));
    assert!(has(&mut c, "hadd", &ahmad.id));
    assert!(has(&mut c, "ahmad hadd", &ahmad.id));
    assert!(!has(&mut c, "ahmad nass", &ahmad.id));
    assert!(has(&mut c, "ahmed nass", &ahmed2.id));
    // Arabic with and without hamza, with diacritics, tatweel.
    assert!(has(&mut c, "احمد", &ahmad.id), "احمد finds أحمد");
    assert!(has(&mut c, "أحمد", &ahmed2.id), "أحمد finds احمد");
    assert!(has(&mut c, "أَحْمَد", &ahmad.id), "diacritics are ignored");
    assert!(has(&mut c, "احـــمد", &ahmad.id), "tatweel is ignored");
    assert!(has(&mut c, "ايمان", &iman.id));
    assert!(has(&mut c, "فاطمه", &fatima.id), "ta marbuta folds");
    assert!(has(&mut c, "فاط", &fatima.id));
    assert!(has(&mut c, "أحمد حد", &ahmad.id));
    // Phone digits, typed plain, with separators or in Arabic-Indic digits.
    assert!(has(&mut c, "962791", &ahmad.id));
    assert!(has(&mut c, "٩٦٢٧٩١٢٣", &ahmad.id));
    assert!(has(&mut c, "0795550001", &iman.id));
    assert!(has(&mut c, "07955", &iman.id));
    // A number stored with its country code is found by its local form too.
    assert!(has(&mut c, "0791234567", &ahmad.id), "local form with trunk 0");
    assert!(has(&mut c, "79123", &ahmad.id), "local form without trunk 0");
    // File numbers, either case, whole or by prefix.
    assert_eq!(ids(&mut c, &ahmad.file_number), HashSet::from([ahmad.id.clone()]));
    assert!(has(&mut c, &fatima.file_number.to_lowercase(), &fatima.id));
    let (station, n) = ahmad.file_number.split_once('-').unwrap();
    assert!(has(&mut c, &format!("{station}-{}", &n[..4]), &ahmad.id));
    // Nothing for nonsense, and nothing (not an error) for punctuation or FTS syntax.
    assert!(ids(&mut c, "zzzz").is_empty());
    assert!(ids(&mut c, "").is_empty());
    assert!(ids(&mut c, "   ").is_empty());
    for odd in [
        "\"", "'", "*", "(", ")", "-", "+", ".", "^", "a*b", "NEAR", "AND", "OR x", "NOT", ":", "{}",
        "ahmad\"", "o'brien",
    ] {
        if let Err(e) = c.ws.patients().search(&c.desk, odd, 10) {
            panic!("search for {odd:?} failed: {e:?}");
        }
    }
    // The limit is respected.
    assert_eq!(c.ws.patients().search(&c.desk, "a", 3).unwrap().len(), 3);
    // A renamed patient is found by the new name only.
    let mut renamed = iman.fields.clone();
    renamed.name_en = "Imane Saliba".into();
    c.ws.patients().update(&c.doctor, &iman.id, &renamed).unwrap();
    assert!(has(&mut c, "saliba", &iman.id));
    assert!(!has(&mut c, "iman saleh", &iman.id));
}

#[test]
fn two_workstations_never_share_a_file_number() {
    let clock = clock();
    let mut numbers = Vec::new();
    let mut dirs = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let (mut ws, admin) = set_up(dir.path(), &clock);
        let station = ws.device_id()[..4].to_uppercase();
        let mut mine = Vec::new();
        for i in 0..8 {
            let p = ws
                .patients()
                .register(&admin.session_id, &demo_patient(i))
                .unwrap();
            assert!(
                p.file_number.starts_with(&format!("{station}-")),
                "{}",
                p.file_number
            );
            mine.push(p.file_number);
        }
        // Numbers count up per device, and keep counting after a restart.
        assert_eq!(mine[0], format!("{station}-00001"));
        assert_eq!(mine[7], format!("{station}-00008"));
        drop(ws);
        let mut ws = open(dir.path(), &clock).unwrap();
        let admin = ws.login("admin", PASSWORD).unwrap();
        mine.push(
            ws.patients()
                .register(&admin.session_id, &demo_patient(99))
                .unwrap()
                .file_number,
        );
        assert_eq!(mine[8], format!("{station}-00009"));
        numbers.push(mine);
        dirs.push(dir);
    }
    let a: HashSet<_> = numbers[0].iter().collect();
    let b: HashSet<_> = numbers[1].iter().collect();
    assert_eq!(a.len(), 9);
    assert_eq!(b.len(), 9);
    assert!(a.is_disjoint(&b), "{a:?} vs {b:?}");
}

#[test]
fn the_search_index_migration_carries_existing_rows_over() {
    // A database at V1 with indexed patients, then V2 applied: same rows, and they are found.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(include_str!("../../../migrations/V1__foundation.sql"))
        .unwrap();
    for (i, (names, phone, file)) in [
        ("ahmad haddad احمد حداد", "962791234567", "abcd 00001"),
        ("sara khalil ساره خليل", "962785550000", "abcd 00002"),
    ]
    .iter()
    .enumerate()
    {
        conn.execute(
            "INSERT INTO patients_fts (patient_id, names, phone, file_number) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![format!("p{i}"), names, phone, file],
        )
        .unwrap();
    }
    let rows = |conn: &rusqlite::Connection| -> Vec<(i64, String, String, String, String)> {
        conn.prepare("SELECT rowid, patient_id, names, phone, file_number FROM patients_fts ORDER BY rowid")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let before = rows(&conn);
    conn.execute_batch(include_str!("../../../migrations/V2__search_prefixes.sql"))
        .unwrap();
    assert_eq!(rows(&conn), before);
    let hits: Vec<String> = conn
        .prepare("SELECT patient_id FROM patients_fts WHERE patients_fts MATCH '\"9627\"*' ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(hits, ["p0", "p1"]);
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'patients_fts'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(sql.contains("prefix = '1 2 3 4 5 6'"), "{sql}");
}
