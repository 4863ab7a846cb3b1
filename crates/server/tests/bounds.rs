//! Sizes and numbers on the sync path, against the real `dentpro-server` binary: push batches
//! and pull pages are bounded by bytes (so long notes never leave a workstation stuck), the
//! largest record a user can cause fits a push body, and hostile numeric parameters get a JSON
//! 400 while the server stays up.

mod support;

use chrono::Utc;
use dentpro_core::patients::PatientInput;
use dentpro_sync::client::{Progress, SyncClient};
use dentpro_sync::protocol::{ApiError, DeviceState, MAX_PULL_LIMIT, MAX_PUSH_BYTES, TokenResponse};
use support::*;

/// `n` characters of mixed Arabic and English clinical text.
fn long_text(n: usize, salt: usize) -> String {
    let words = [
        "حساسية",
        "penicillin",
        "ضغط الدم",
        "diabetes type 2",
        "أسنان",
        "x-ray",
    ];
    let mut s = format!("#{salt} ");
    let mut i = 0;
    while s.chars().count() < n {
        s.push_str(words[(i + salt) % words.len()]);
        s.push(' ');
        i += 1;
    }
    s.chars().take(n).collect()
}

fn long_patient(i: usize) -> PatientInput {
    PatientInput {
        name_ar: format!("مريض رقم {i}"),
        allergies: long_text(3000, i),
        chronic_diseases: long_text(3000, i + 1),
        current_medications: long_text(3000, i + 2),
        medical_history: long_text(3000, i + 3),
        ..patient(&format!("Long Notes {i}"), "0791234567")
    }
}

/// The defect: 300 patients with ~12,000 characters of notes each (about 6 MiB of records) were
/// pushed 500 records at a time, over the server's body limit, and refused on every retry.
#[test]
fn a_run_of_patients_with_long_notes_syncs_and_is_pulled_in_bounded_pages() {
    let mut b = Branch::new();
    let rita = b.reception.login("rita");
    const N: usize = 300;
    for i in 0..N {
        b.reception
            .ws()
            .patients()
            .register(&rita, &long_patient(i))
            .expect("register");
    }
    let report = b.reception.sync().expect("the long run is pushed");
    assert_eq!(report.pending, 0, "{report:?}");
    assert!(report.pushed as usize > N, "{report:?}");

    // The doctor pulls it all, in several pages none of which is over the server's page bound.
    let mut client = SyncClient::for_workstation(&b.doctor.ws).unwrap().unwrap();
    let mut pages: Vec<Progress> = Vec::new();
    client
        .sync_once(&b.doctor.ws, |p| pages.push(p))
        .expect("the doctor pulls the long run");
    println!("pulled in {} pages: {pages:?}", pages.len());
    assert!(pages.len() >= 2, "about 6 MiB came in one page: {pages:?}");
    let conn = b.doctor.db();
    let pulled: i64 = conn
        .query_row(
            "SELECT count(*) FROM patients WHERE name_en LIKE 'Long Notes %'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pulled, N as i64);
    let history: String = conn
        .query_row(
            "SELECT medical_history FROM patients WHERE name_en = 'Long Notes 7'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(history, long_text(3000, 10));
}

/// An authenticated raw call, as an independent client would make it: `(status, body)`.
struct RawClient {
    http: reqwest::blocking::Client,
    base: String,
    key: ed25519_dalek::SigningKey,
    token: String,
}

impl RawClient {
    fn new(station: &Station) -> Self {
        let (enrolment, key) = {
            let mut ws = station.ws();
            (
                ws.devices().enrolment().unwrap().expect("enrolled"),
                ws.ledger().identity().signing_key().clone(),
            )
        };
        let http = dentpro_sync::tls::pinned_http_client(&enrolment.certificate_fingerprint).unwrap();
        let url = format!("{}/v1/token", enrolment.server_url);
        let proof = dentpro_sync::auth::make_proof(&key, "POST", &url, None, Utc::now());
        let token: TokenResponse = http
            .post(&url)
            .header("DPoP", proof)
            .send()
            .unwrap()
            .json()
            .unwrap();
        RawClient {
            http,
            base: enrolment.server_url,
            key,
            token: token.access_token,
        }
    }

    fn get(&self, path: &str, query: &str) -> (u16, String) {
        let url = format!("{}{path}", self.base);
        let proof = dentpro_sync::auth::make_proof(&self.key, "GET", &url, Some(&self.token), Utc::now());
        let response = self
            .http
            .get(format!("{url}{query}"))
            .header("Authorization", format!("DPoP {}", self.token))
            .header("DPoP", proof)
            .send()
            .unwrap_or_else(|e| panic!("{path}{query}: no answer: {e}"));
        (response.status().as_u16(), response.text().unwrap())
    }
}

#[test]
fn hostile_numbers_get_a_json_400_and_the_server_stays_up() {
    let b = Branch::new();
    let raw = RawClient::new(&b.reception);
    let (status, body) = raw.get("/v1/state", "");
    assert_eq!(status, 200, "{body}");
    let state: DeviceState = serde_json::from_str(&body).unwrap();
    assert_eq!(state.max_push_bytes, MAX_PUSH_BYTES as u64);
    let size = state.log_size;
    let big = [
        u64::MAX.to_string(),
        (u64::MAX - 1).to_string(),
        (i64::MAX as u64 + 1).to_string(),
        i64::MAX.to_string(),
        (size + 1).to_string(),
    ];
    let mut cases: Vec<(&str, String)> = Vec::new();
    for v in big
        .iter()
        .map(String::as_str)
        .chain(["-1", "abc", "1e3", "", "18446744073709551616"])
    {
        cases.push(("/v1/pull", format!("?from={v}")));
        if v != (size + 1).to_string() {
            cases.push(("/v1/pull", format!("?from=0&limit={v}")));
        }
        cases.push(("/v1/pull", format!("?from=0&known_size={v}")));
        cases.push(("/v1/proof/inclusion", format!("?index={v}")));
        cases.push(("/v1/proof/inclusion", format!("?index=0&size={v}")));
    }
    cases.push(("/v1/pull", "?from=0&limit=0".into()));
    cases.push(("/v1/pull", format!("?from=0&limit={}", MAX_PULL_LIMIT + 1)));
    cases.push(("/v1/pull", "".into()));
    cases.push(("/v1/proof/inclusion", format!("?index={size}")));
    cases.push(("/v1/proof/inclusion", "?index=3&size=3".into()));
    for (path, query) in &cases {
        let (status, body) = raw.get(path, query);
        assert!(
            status == 400 || (status == 409 && query.contains("known_size")),
            "{path}{query}: {status} {body}"
        );
        let error: ApiError =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}{query}: not JSON ({e}): {body}"));
        assert!(!error.reason.is_empty() && !error.message.is_empty(), "{body}");
        if status == 400 {
            assert_eq!(error.code, "bad_request", "{path}{query}: {body}");
        }
    }
    // A signed record whose seq does not fit SQLite's i64 is malformed, not wrapped negative.
    let mut b = b;
    let mut record = b.reception.ws().sync().outbox(0, 1).unwrap().remove(0);
    for seq in [i64::MAX as u64 + 1, u64::MAX] {
        record.body.seq = seq;
        let key = b.reception.ws().ledger().identity().signing_key().clone();
        let forged = record.body.clone().sign(&key);
        let e = b.reception.push_records(&[forged]).unwrap_err();
        assert_eq!(e.details["status"], "400", "{e:?}");
        assert_eq!(e.details["reason"], "malformed", "{e:?}");
    }
    // Still up and still right: the edges that are in range are answered.
    let (status, body) = raw.get("/v1/pull", &format!("?from={size}&limit=1&known_size={size}"));
    assert_eq!(status, 200, "{body}");
    let (status, body) = raw.get("/v1/proof/inclusion", &format!("?index=0&size={size}"));
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = raw
        .http
        .get(format!("{}/health", raw.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(health["status"], "ok");
}

/// Worst-case text: the character that costs the most bytes in a push body. A control
/// character is escaped in the payload's canonical JSON (`\u0001`, 6 bytes) and its backslash
/// escaped again in the body's JSON: 7 bytes for one character (Arabic costs 2, an emoji 4).
fn worst(n: usize) -> String {
    "\u{1}".repeat(n)
}

/// The largest records a user can cause, each field at its maximum, fit in a push body with a
/// wide margin: a single record can never be over what the server accepts.
#[test]
fn the_largest_records_a_user_can_cause_fit_a_push_body_with_margin() {
    use dentpro_core::text::*;
    use dentpro_sync::protocol::{PushRequest, WireRecord, json_len};
    let root = tempfile::tempdir().unwrap();
    let ws = Station::open(root.path());
    {
        let mut w = ws.ws();
        let mut setup = setup_input();
        setup.branch_name = worst(NAME_MAX);
        setup.admin_display_name = worst(NAME_MAX);
        setup.admin_password = worst(PASSWORD_MAX);
        let admin = w.setup_branch(&setup).expect("setup with maximal text");
        let mut user = new_user("x".repeat(32).as_str(), dentpro_core::permissions::Role::Doctor);
        user.display_name = worst(NAME_MAX);
        user.password = worst(PASSWORD_MAX);
        w.accounts()
            .create_user(&admin.session_id, &user)
            .expect("maximal user");
        // A failed login records what was typed, however long.
        assert!(w.login(&worst(100_000), "wrong password").is_err());
        let full = PatientInput {
            name_en: worst(NAME_MAX),
            name_ar: worst(NAME_MAX),
            phone: format!("+{}1", "1 ".repeat(14)),
            national_id: Some("A".repeat(20)),
            address: worst(LINE_MAX),
            emergency_contact: worst(LINE_MAX),
            allergies: worst(NOTES_MAX),
            chronic_diseases: worst(NOTES_MAX),
            current_medications: worst(NOTES_MAX),
            medical_history: worst(NOTES_MAX),
            ..patient("x", "0791234567")
        };
        assert_eq!(full.phone.chars().count(), PHONE_MAX);
        let p = w
            .patients()
            .register(&admin.session_id, &full)
            .expect("maximal patient");
        // An edit of every field, from maximal text to other maximal text: `from` and `to` both.
        let mut other = full.clone();
        for f in [
            &mut other.name_en,
            &mut other.name_ar,
            &mut other.address,
            &mut other.emergency_contact,
            &mut other.allergies,
            &mut other.chronic_diseases,
            &mut other.current_medications,
            &mut other.medical_history,
        ] {
            *f = f.replace('\u{1}', "\u{2}");
        }
        w.patients()
            .update(&admin.session_id, &p.id, &other)
            .expect("maximal edit");
    }
    // Every one of its records, in the push body it would travel in.
    let records = ws.ws().sync().outbox(0, 10_000).unwrap();
    let largest = records
        .iter()
        .map(|r| {
            let body = PushRequest {
                records: vec![WireRecord::from(r)],
                device_time: Utc::now(),
            };
            (json_len(&body), r.body.kind.clone())
        })
        .max()
        .unwrap();
    println!("largest record in a push body: {largest:?} bytes, limit {MAX_PUSH_BYTES}");
    assert_eq!(largest.1, "patient.updated", "{largest:?}");
    // Within a quarter of the limit: any batch takes at least a few of them.
    assert!(largest.0 * 4 < MAX_PUSH_BYTES, "{largest:?} vs {MAX_PUSH_BYTES}");
    // And one character more is refused with the bound, in every kind of field.
    let mut w = ws.ws();
    let admin = w.login("admin", &worst(PASSWORD_MAX)).expect("admin login");
    let mut too_long = patient("x", "0791234567");
    too_long.medical_history = worst(NOTES_MAX + 1);
    let e = w.patients().register(&admin.session_id, &too_long).unwrap_err();
    assert_eq!(
        (e.details["field"].as_str(), e.details["reason"].as_str()),
        ("medical_history", "too_long")
    );
    assert_eq!(e.details["max"], NOTES_MAX.to_string());
    let mut user = new_user("someone", dentpro_core::permissions::Role::Doctor);
    user.password = worst(PASSWORD_MAX + 1);
    let e = w.accounts().create_user(&admin.session_id, &user).unwrap_err();
    assert_eq!(
        (e.details["field"].as_str(), e.details["reason"].as_str()),
        ("password", "too_long")
    );
}

/// The label an enrolling device sends is stored and shown to every admin: bounded, before the
/// code is even looked at. And a workstation refuses a label over the bound before sending it.
#[test]
fn an_enrolment_label_over_the_bound_is_refused_and_nothing_is_stored() {
    use dentpro_sync::protocol::EnrolRequest;
    let root = tempfile::tempdir().unwrap();
    let server = TestServer::start(&root.path().join("server"));
    let ticket = server.ticket(dentpro_core::devices::DeviceKind::Doctor);
    let http = dentpro_sync::tls::pinned_http_client(&ticket.certificate_fingerprint).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let request = |label: String| EnrolRequest {
        label,
        ..enrol_request(&ticket.code, &key, "")
    };
    let url = format!("https://{}/v1/enrol", ticket.address);
    // A body far over the enrolment's bound is refused before it is parsed (a JSON 413)...
    let answer = http
        .post(&url)
        .json(&request("ب".repeat(100_000)))
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 413);
    let error: ApiError = answer.json().unwrap();
    assert_eq!(
        (error.code.as_str(), error.reason.as_str()),
        ("bad_request", "body_too_large")
    );
    // ...and a label one character over its bound, named as such.
    let answer = http
        .post(&url)
        .json(&request("ب".repeat(dentpro_core::text::LABEL_MAX + 1)))
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let error: ApiError = answer.json().unwrap();
    assert_eq!(
        (error.code.as_str(), error.reason.as_str()),
        ("bad_request", "too_long")
    );
    assert_eq!(count(&server.db(), "SELECT count(*) FROM devices"), 0);
    // The code was not spent: the same device enrols with a label at the bound.
    let answer = http
        .post(&url)
        .json(&request("ب".repeat(dentpro_core::text::LABEL_MAX)))
        .send()
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200, "{}", answer.text().unwrap());
    // A workstation checks its own label first.
    let desk = Station::open(&root.path().join("desk"));
    let e = dentpro_sync::client::enrol(
        &desk.ws,
        &server.ticket(dentpro_core::devices::DeviceKind::Reception),
        &"x".repeat(dentpro_core::text::LABEL_MAX + 1),
    )
    .unwrap_err();
    assert_eq!(
        (e.details["field"].as_str(), e.details["reason"].as_str()),
        ("label", "too_long")
    );
    // And an enrolment code's own label is bounded when it is issued.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dentpro-server"))
        .arg("--data-dir")
        .arg(&server.dir)
        .args([
            "enrol-code",
            "--kind",
            "doctor",
            "--address",
            &server.address,
            "--label",
        ])
        .arg("y".repeat(1000))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("too long"),
        "{out:?}"
    );
}
