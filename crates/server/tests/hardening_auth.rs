//! Issue 9, the server's refusal and authentication paths, tried against the real
//! `dentpro-server` on loopback the way an outside client would: what arrives before
//! authentication is stored bounded and aggregated, proofs from unknown keys store nothing,
//! stored text reaches the admin's terminal escaped, RFC 9449 / 9110 details, every refusal
//! recorded and every error body one JSON shape.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
use dentpro_core::devices::DeviceKind;
use dentpro_core::record::device_id_for;
use dentpro_sync::protocol::ApiError;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};
use support::*;

fn http(server: &TestServer) -> reqwest::blocking::Client {
    let config = dentpro_server::store::DataDir::new(&server.dir).config().unwrap();
    dentpro_sync::tls::pinned_http_client(&config.certificate_fingerprint).unwrap()
}

fn url(server: &TestServer, path: &str) -> String {
    format!("https://{}{path}", server.address)
}

/// A DPoP proof built by hand (base64url + ed25519-dalek; not `auth::make_proof`).
fn hand_proof(key: &SigningKey, header: Value, claims: Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
    );
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn jwk(key: &SigningKey) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes())})
}

fn proof_claims(method: &str, url: &str, token: Option<&str>) -> Value {
    use sha2::Digest as _;
    let mut claims = json!({
        "jti": uuid::Uuid::now_v7().to_string(),
        "htm": method,
        "htu": url,
        "iat": chrono::Utc::now().timestamp(),
    });
    if let Some(t) = token {
        claims["ath"] = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(t.as_bytes())).into();
    }
    claims
}

fn proof(key: &SigningKey, method: &str, url: &str, token: Option<&str>) -> String {
    hand_proof(
        key,
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk(key)}),
        proof_claims(method, url, token),
    )
}

fn device_key(station: &Station) -> SigningKey {
    DeviceIdentity::load_or_create(&station.dir, KeyStorePreference::File)
        .unwrap()
        .signing_key()
        .clone()
}

/// The body of an error answer, checked to be the documented JSON shape.
fn api_error(response: reqwest::blocking::Response) -> (u16, ApiError) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{status} answered {content_type:?}: {text}"
    );
    let error: ApiError =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} answered {text:?}: {e}"));
    assert!(
        !error.code.is_empty() && !error.reason.is_empty() && !error.message.is_empty(),
        "{text}"
    );
    (status, error)
}

fn db_bytes(server: &TestServer) -> i64 {
    server
        .db()
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

// ---- (2) unauthenticated disk fill ----

#[test]
fn ten_thousand_refused_enrolments_with_1_mib_device_ids_grow_the_database_by_at_most_64_kib() {
    let root = tempfile::tempdir().unwrap();
    let server = TestServer::start(&root.path().join("server"));
    let before = db_bytes(&server);
    let body: &'static [u8] = Box::leak(
        serde_json::to_vec(&json!({
            "code": "AAAA-BBBB-CCCC-DDDD",
            "device_id": "\u{1b}[2J".repeat(1 << 18), // 1 MiB of escape sequences
            "public_key": "00".repeat(32),
            "signature": "00".repeat(64),
            "label": "x",
            "app_version": "0",
            "branch_id": null,
        }))
        .unwrap()
        .into_boxed_slice(),
    );
    assert!(body.len() > 1 << 20);
    let started = std::time::Instant::now();
    // Four clients at once (each request is a new TLS connection: the server closes it).
    let (answered, limited) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let http = http(&server);
                    let (mut answered, mut limited) = (0, 0);
                    for _ in 0..2_500 {
                        // The server may answer before reading the body and close the
                        // connection: a client still writing its megabyte then sees a broken
                        // connection. Both are fine.
                        if let Ok(r) = http
                            .post(url(&server, "/v1/enrol"))
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                        {
                            answered += 1;
                            let (status, _) = api_error(r);
                            assert!(matches!(status, 400 | 403 | 413 | 422 | 429), "{status}");
                            limited += usize::from(status == 429);
                        }
                    }
                    (answered, limited)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold((0, 0), |(a, l), (a2, l2)| (a + a2, l + l2))
    });
    eprintln!(
        "{answered} answered ({limited} with 429) in {:.1?}",
        started.elapsed()
    );
    let grown = db_bytes(&server) - before;
    assert!(grown <= 64 * 1024, "the database grew by {grown} bytes");
    assert!(limited > 0, "{answered} answers, none rate-limited");
    let http = http(&server);
    // The refusals are there, aggregated and capped.
    let alerts = server.cli(&["alerts"]);
    assert!(alerts.lines().count() < 20, "{alerts}");
    assert!(!alerts.contains('\u{1b}'), "{alerts}");
    assert!(alerts.contains("127.0.0.1"), "{alerts}");
    // The server still serves.
    assert!(
        http.get(url(&server, "/health"))
            .send()
            .unwrap()
            .status()
            .is_success()
    );
}

// ---- (3) unauthenticated lockout ----

#[test]
fn a_flood_of_valid_proofs_from_unknown_keys_locks_no_workstation_out() {
    let root = tempfile::tempdir().unwrap();
    // The replay bound lowered from 100k to 1,000 so that the flood below exceeds it quickly.
    let server = TestServer::start_with(&root.path().join("server"), &["--replay-cache-entries", "1000"]);
    let mut b = Branch::on(root, server);
    let http = http(&b.server);
    let token_url = url(&b.server, "/v1/token");
    for i in 0..1_500u32 {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        seed[31] = 0xf1;
        let stranger = SigningKey::from_bytes(&seed);
        let r = http
            .post(&token_url)
            .header("DPoP", proof(&stranger, "POST", &token_url, None))
            .send()
            .unwrap();
        assert!(r.status().is_client_error(), "{}", r.status());
    }
    // Every enrolled workstation still gets a token and syncs.
    for station in [&mut b.reception, &mut b.doctor] {
        station.forget_client();
        station.sync().expect("sync after the flood");
    }
}

// ---- (4) terminal injection ----

#[test]
fn alerts_and_devices_escape_control_characters_from_stored_text() {
    let b = Branch::new();
    let http = http(&b.server);
    let forged =
        "x\n2026-01-01T00:00:00+00:00 - device_revoked revoked: forged line\u{1b}]0;owned\u{7}\u{1b}[31m";
    let r = http
        .post(url(&b.server, "/v1/enrol"))
        .json(&json!({
            "code": "AAAA-BBBB-CCCC-DDDD", "device_id": forged, "public_key": "00".repeat(32),
            "signature": "00".repeat(64), "label": "x", "app_version": "0", "branch_id": null,
        }))
        .send()
        .unwrap();
    assert!(r.status().is_client_error());
    // A workstation enrolled with a label full of control characters.
    let mut desk = Station::open(&b.root.path().join("desk"));
    let ticket = b.server.ticket(DeviceKind::Reception);
    dentpro_sync::client::enrol(&desk.ws, &ticket, "Desk\u{1b}[2J\nfake device line\u{9b}1m").unwrap();
    desk.forget_client();
    for args in [&["alerts"][..], &["devices"][..]] {
        let out = b.server.cli(args);
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?} printed control characters: {out:?}"
        );
        assert!(
            !out.lines()
                .any(|l| l.starts_with("2026-01-01") || l.starts_with("fake")),
            "{args:?}: a forged line: {out}"
        );
    }
    let alerts = b.server.cli(&["alerts"]);
    assert!(
        alerts.contains(r"\n2026-01-01") && alerts.contains(r"\u{1b}"),
        "{alerts}"
    );
    assert!(b.server.cli(&["devices"]).contains(r"Desk\u{1b}[2J\nfake"));
}

// ---- (6) RFC 9449 / RFC 9110 ----

#[test]
fn dpop_details_of_rfc_9449_and_rfc_9110() {
    let b = Branch::new();
    let http = http(&b.server);
    let key = device_key(&b.reception);
    let token_url = url(&b.server, "/v1/token");
    let state_url = url(&b.server, "/v1/state");
    let www_authenticate = |r: &reqwest::blocking::Response| {
        r.headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let dpop_error = |h: &str, error: &str| {
        h.to_ascii_lowercase().starts_with("dpop ") && h.contains(&format!("error=\"{error}\""))
    };

    // A non-integer iat (RFC 7519 NumericDate) is accepted.
    let mut claims = proof_claims("POST", &token_url, None);
    claims["iat"] = json!(chrono::Utc::now().timestamp() as f64 + 0.5);
    let fractional = hand_proof(
        &key,
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk(&key)}),
        claims,
    );
    let r = http.post(&token_url).header("DPoP", fractional).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap());
    let token: dentpro_sync::protocol::TokenResponse = r.json().unwrap();
    let token = token.access_token;

    // Two DPoP headers: refused (RFC 9449 section 4.3 step 1), even if each is valid.
    let r = http
        .post(&token_url)
        .header("DPoP", proof(&key, "POST", &token_url, None))
        .header("DPoP", proof(&key, "POST", &token_url, None))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        dpop_error(&www_authenticate(&r), "invalid_dpop_proof"),
        "{}",
        www_authenticate(&r)
    );
    assert_eq!(api_error(r).1.reason, "multiple_proofs");

    // A jwk carrying the private key: refused (section 4.3 step 7).
    let mut private = jwk(&key);
    private["d"] = URL_SAFE_NO_PAD.encode(key.to_bytes()).into();
    let leaked = hand_proof(
        &key,
        json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": private}),
        proof_claims("POST", &token_url, None),
    );
    let r = http.post(&token_url).header("DPoP", leaked).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(dpop_error(&www_authenticate(&r), "invalid_dpop_proof"));
    assert_eq!(api_error(r).1.reason, "private_key_in_proof");

    // The scheme is case-insensitive (RFC 9110 section 11.1).
    for scheme in ["dpop", "DPOP", "DPoP"] {
        let r = http
            .get(&state_url)
            .header("Authorization", format!("{scheme} {token}"))
            .header("DPoP", proof(&key, "GET", &state_url, Some(&token)))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{scheme}: {}", r.text().unwrap());
    }

    // Every 401 says why in WWW-Authenticate (RFC 9449 section 7.1, RFC 6750 codes).
    let no_token = http.get(&state_url).send().unwrap();
    let with_token = |proof: String| {
        http.get(&state_url)
            .header("Authorization", format!("DPoP {token}"))
            .header("DPoP", proof)
            .send()
            .unwrap()
    };
    let wrong_url = with_token(proof(&key, "GET", &token_url, Some(&token)));
    let once = proof(&key, "GET", &state_url, Some(&token));
    assert_eq!(with_token(once.clone()).status().as_u16(), 200);
    let replayed = with_token(once);
    let forged_token = http
        .get(&state_url)
        .header("Authorization", "DPoP not.a.token")
        .header("DPoP", proof(&key, "GET", &state_url, Some("not.a.token")))
        .send()
        .unwrap();
    let no_proof = http
        .get(&state_url)
        .header("Authorization", format!("DPoP {token}"))
        .send()
        .unwrap();
    for (r, error) in [
        (no_token, "invalid_token"),
        (wrong_url, "invalid_dpop_proof"),
        (replayed, "invalid_dpop_proof"),
        (forged_token, "invalid_token"),
        (no_proof, "invalid_dpop_proof"),
    ] {
        assert_eq!(r.status().as_u16(), 401);
        let h = www_authenticate(&r);
        assert!(dpop_error(&h, error), "expected {error}: {h:?}");
        api_error(r);
    }
}

// ---- (9) refusals recorded, (10) one error shape ----

#[test]
fn enrolment_refusals_and_bad_requests_are_recorded_with_counts() {
    let b = Branch::new();
    let http = http(&b.server);
    // The reception desk's ticket, used again by another machine: possibly stolen.
    let ticket = b.server.ticket(DeviceKind::Doctor);
    let mut first = Station::open(&b.root.path().join("first"));
    dentpro_sync::client::enrol(&first.ws, &ticket, "first").unwrap();
    first.forget_client();
    let thief = Station::open(&b.root.path().join("thief"));
    let e = dentpro_sync::client::enrol(&thief.ws, &ticket, "thief").unwrap_err();
    assert_eq!(
        e.details.get("reason").map(String::as_str),
        Some("code_used"),
        "{e:?}"
    );
    let mut unknown = ticket.clone();
    unknown.code = "0000-0000-0000-0000".into();
    let e = dentpro_sync::client::enrol(&thief.ws, &unknown, "thief").unwrap_err();
    assert_eq!(
        e.details.get("reason").map(String::as_str),
        Some("unknown_code"),
        "{e:?}"
    );
    // Three bad JSON bodies, a body of the wrong shape, one too large.
    for _ in 0..3 {
        let r = http
            .post(url(&b.server, "/v1/enrol"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .unwrap();
        assert_eq!(api_error(r).0, 400);
    }
    let r = http
        .post(url(&b.server, "/v1/enrol"))
        .json(&json!({"code": 5}))
        .send()
        .unwrap();
    assert_eq!(api_error(r).0, 422);
    let r = http
        .post(url(&b.server, "/v1/enrol"))
        .header("content-type", "application/json")
        .body(vec![b' '; 4 << 20])
        .send();
    if let Ok(r) = r {
        assert_eq!(api_error(r).0, 413);
    }
    let alerts = b.server.cli(&["alerts"]);
    for expected in [
        "code_used",
        "stolen",
        "unknown_code",
        "malformed",
        "unprocessable",
    ] {
        assert!(alerts.contains(expected), "{expected} missing: {alerts}");
    }
    let malformed = alerts.lines().find(|l| l.contains("malformed")).unwrap();
    assert!(malformed.contains("×3"), "{malformed}");
}

#[test]
fn every_error_body_is_the_documented_json_and_push_authenticates_before_parsing() {
    let b = Branch::new();
    let http = http(&b.server);
    let cases: Vec<(u16, reqwest::blocking::RequestBuilder)> = vec![
        (404, http.get(url(&b.server, "/v1/nothing-here"))),
        (405, http.get(url(&b.server, "/v1/enrol"))),
        (415, http.post(url(&b.server, "/v1/enrol")).body("{}")),
        (
            400,
            http.post(url(&b.server, "/v1/enrol"))
                .header("content-type", "application/json")
                .body("{not json"),
        ),
        (422, http.post(url(&b.server, "/v1/enrol")).json(&json!({}))),
        // A bad query of an authenticated route: the caller is authenticated before its
        // parameters are looked at (with a token, this is a JSON 400: tests/bounds.rs).
        (401, http.get(url(&b.server, "/v1/pull?from=minus-one"))),
        // No token: refused before the (bad) body is read.
        (
            401,
            http.post(url(&b.server, "/v1/push"))
                .header("content-type", "text/plain")
                .body("garbage"),
        ),
    ];
    for (expected, request) in cases {
        let (status, error) = api_error(request.send().unwrap());
        assert_eq!(status, expected, "{error:?}");
    }
    // An authenticated push with a bad body gets the same shape.
    let key = device_key(&b.reception);
    let token_url = url(&b.server, "/v1/token");
    let token: dentpro_sync::protocol::TokenResponse = http
        .post(&token_url)
        .header("DPoP", proof(&key, "POST", &token_url, None))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let push_url = url(&b.server, "/v1/push");
    let r = http
        .post(&push_url)
        .header("Authorization", format!("DPoP {}", token.access_token))
        .header("DPoP", proof(&key, "POST", &push_url, Some(&token.access_token)))
        .header("content-type", "application/json")
        .body("{\"records\": 7}")
        .send()
        .unwrap();
    let (status, _) = api_error(r);
    assert!(matches!(status, 400 | 422), "{status}");
}

#[test]
fn a_device_flooding_its_own_proofs_locks_out_only_itself() {
    let root = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&root.path().join("server"), &["--replay-cache-entries", "50"]);
    let mut b = Branch::on(root, server);
    let http = http(&b.server);
    let token_url = url(&b.server, "/v1/token");
    let key = device_key(&b.doctor);
    let statuses: Vec<u16> = (0..60)
        .map(|_| {
            http.post(&token_url)
                .header("DPoP", proof(&key, "POST", &token_url, None))
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    // The doctor's first sync used a few of its 50; the rest of the flood fills them.
    assert!(
        statuses.iter().filter(|s| **s == 200).count() < 50,
        "{statuses:?}"
    );
    let r = http
        .post(&token_url)
        .header("DPoP", proof(&key, "POST", &token_url, None))
        .send()
        .unwrap();
    let (status, error) = api_error(r);
    assert_eq!((status, error.reason.as_str()), (401, "replay_cache_full"));
    // The reception desk is not affected.
    b.reception.forget_client();
    b.reception.sync().expect("reception syncs");
}

// ---- file-number prefixes ----

/// `n` device keys whose device ids share their first four hex digits: the prefix of the file
/// numbers their workstations deal out (`patients::rules::next_file_number`). Found by trying
/// seeds in turn (about 3,000 for three of them).
fn keys_sharing_a_file_number_prefix(n: usize) -> Vec<SigningKey> {
    let mut by_prefix: std::collections::HashMap<String, Vec<SigningKey>> = Default::default();
    for i in 0u32.. {
        let mut seed = [0x5a; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        let key = SigningKey::from_bytes(&seed);
        let prefix = device_id_for(&key.verifying_key())[..4].to_owned();
        let keys = by_prefix.entry(prefix).or_default();
        keys.push(key);
        if keys.len() == n {
            return keys.clone();
        }
    }
    unreachable!("the seeds run out")
}

/// An enrolment of `key` with a fresh ticket, as the client sends it.
fn enrol_key(server: &TestServer, key: &SigningKey) -> reqwest::blocking::Response {
    let ticket = server.ticket(DeviceKind::Reception);
    http(server)
        .post(url(server, "/v1/enrol"))
        .json(&enrol_request(&ticket.code, key, "desk"))
        .send()
        .unwrap()
}

#[test]
fn a_file_number_prefix_in_use_is_refused_to_a_second_device_even_after_the_first_is_revoked() {
    let b = Branch::new();
    let keys = keys_sharing_a_file_number_prefix(3);
    assert!(enrol_key(&b.server, &keys[0]).status().is_success());
    let (status, e) = api_error(enrol_key(&b.server, &keys[1]));
    assert_eq!((status, e.reason.as_str()), (403, "station_taken"), "{e:?}");
    // A revoked device's patients keep their file numbers: a new device with its prefix would
    // deal out the same numbers, and the server would refuse each of its registrations.
    b.server
        .cli(&["revoke", &device_id_for(&keys[0].verifying_key())]);
    let (status, e) = api_error(enrol_key(&b.server, &keys[2]));
    assert_eq!((status, e.reason.as_str()), (403, "station_taken"), "{e:?}");
    let enrolled: i64 = b
        .server
        .db()
        .query_row("SELECT count(*) FROM devices", [], |r| r.get(0))
        .unwrap();
    assert_eq!(enrolled, 3, "the branch's two stations and the first key only");
}
