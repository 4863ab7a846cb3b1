//! Property tests of the wire decoders (issue 9): random and mutated inputs to every decoder a
//! server or workstation runs on bytes from the network give an error (or a value that still
//! fails its signature check), never a panic. Case counts are explicit to keep debug runs short.

use chrono::{Duration, Utc};
use dentpro_core::record::{Record, RecordBody, WireRecord};
use dentpro_core::sync::{LeafVersion, LogPosition, LoggedRecord, Verdict, entry_leaf};
use dentpro_sync::auth;
use dentpro_sync::client::EnrolmentTicket;
use dentpro_sync::protocol::*;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn record() -> Record {
    RecordBody {
        id: "0190f1c2-0000-7000-8000-000000000001".into(),
        device_id: "d".repeat(32),
        seq: 7,
        prev_hash: [3; 32],
        kind: "patient_registered".into(),
        kind_version: 1,
        actor_user_id: Some("u1".into()),
        actor_role: Some("receptionist".into()),
        session_id: None,
        business_date: "2026-12-01".into(),
        device_time: "2026-12-01T10:00:00Z".into(),
        payload: br#"{"name_en":"Lina"}"#.to_vec(),
    }
    .sign(&key(1))
}

fn entry(skew: Option<i64>, leaf_version: LeafVersion) -> WireEntry {
    WireEntry {
        position: LogPosition {
            log_index: 4,
            verdict: Verdict::Accepted,
            reason: None,
            clock_skew_seconds: skew,
            leaf_version,
        },
        record: (&record()).into(),
    }
}

fn checkpoint() -> SignedCheckpoint {
    SignedCheckpoint::sign(&key(9), 5, [7; 32], Utc::now())
}

/// A byte-level mutation: flip, overwrite, insert or delete at a position.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Flip(i, b) if !bytes.is_empty() => bytes[i % n] ^= b,
            Mutation::Set(i, b) if !bytes.is_empty() => bytes[i % n] = b,
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % n);
            }
            _ => {}
        }
    }
    bytes
}

/// JSON texts near the valid ones: valid documents with one value replaced by an odd one.
fn odd_json_value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number)),
        ".{0,80}".prop_map(serde_json::Value::from),
        "[0-9a-f]{0,130}".prop_map(serde_json::Value::from),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
    ]
}

/// Replaces the value at the `pick`-th place (depth first) of `doc` by `value`.
fn replace_nth(doc: &mut serde_json::Value, pick: &mut usize, value: &serde_json::Value) -> bool {
    if *pick == 0 {
        *doc = value.clone();
        return true;
    }
    *pick -= 1;
    match doc {
        serde_json::Value::Object(map) => map.values_mut().any(|v| replace_nth(v, pick, value)),
        serde_json::Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, pick, value)),
        _ => false,
    }
}

fn decode_all(bytes: &[u8]) {
    if let Ok(e) = serde_json::from_slice::<WireEntry>(bytes)
        && let Ok(logged) = LoggedRecord::try_from(&e)
    {
        let _ = entry_leaf(&logged.record.hash, &logged.position);
        let _ = logged.record.check(&key(1).verifying_key());
    }
    if let Ok(w) = serde_json::from_slice::<WireRecord>(bytes) {
        let _ = record_from_wire(&w);
    }
    if let Ok(p) = serde_json::from_slice::<PushRequest>(bytes) {
        for w in &p.records {
            let _ = record_from_wire(w);
        }
    }
    if let Ok(p) = serde_json::from_slice::<PullResponse>(bytes) {
        let _ = p.checkpoint.verify(&key(9).verifying_key());
        let _ = p.checkpoint.root_bytes();
        let _ = hashes_from_hex(&p.consistency);
        for e in &p.entries {
            let _ = LoggedRecord::try_from(e);
        }
    }
    let _ = serde_json::from_slice::<EnrolRequest>(bytes);
    let _ = serde_json::from_slice::<PushReceipt>(bytes);
    let _ = serde_json::from_slice::<InclusionProof>(bytes);
    let _ = serde_json::from_slice::<DeviceState>(bytes);
}

fn samples() -> Vec<Vec<u8>> {
    let pull = PullResponse {
        entries: vec![entry(None, LeafVersion::V1), entry(Some(10800), LeafVersion::V2)],
        checkpoint: checkpoint(),
        consistency: vec![hex::encode([1; 32])],
    };
    let push = PushRequest {
        records: vec![(&record()).into()],
        device_time: Utc::now(),
    };
    vec![
        serde_json::to_vec(&pull).unwrap(),
        serde_json::to_vec(&push).unwrap(),
        serde_json::to_vec(&entry(Some(-5), LeafVersion::V2)).unwrap(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_a_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_wire_json_never_panics_a_decoder(
        which in 0..3usize,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        decode_all(&mutate(samples()[which].clone(), &mutations));
    }

    #[test]
    fn wire_json_with_odd_values_is_refused_or_decodes_without_panic(
        which in 0..3usize,
        pick in 0..200usize,
        value in odd_json_value(),
    ) {
        let mut doc: serde_json::Value = serde_json::from_slice(&samples()[which]).unwrap();
        let mut pick = pick;
        replace_nth(&mut doc, &mut pick, &value);
        decode_all(&serde_json::to_vec(&doc).unwrap());
    }

    /// A record whose fields were changed on the way either does not decode or fails its
    /// hash and signature check: the decoders never make a changed record look signed.
    #[test]
    fn a_changed_wire_record_never_passes_its_check(field in 0..13usize, text in ".{0,40}", n in any::<u64>()) {
        let original: WireRecord = (&record()).into();
        let mut w = original.clone();
        match field {
            0 => w.id = text,
            1 => w.device_id = text,
            2 => w.seq = n,
            3 => w.prev_hash = text,
            4 => w.kind = text,
            5 => w.kind_version = n as u32,
            6 => w.actor_user_id = Some(text),
            7 => w.actor_role = None,
            8 => w.session_id = Some(text),
            9 => w.business_date = text,
            10 => w.device_time = text,
            11 => w.payload = text,
            _ => w.signature = format!("{:0>128}", hex::encode(n.to_be_bytes())),
        }
        prop_assume!(w != original);
        if let Ok(r) = record_from_wire(&w) {
            prop_assert!(r.check(&key(1).verifying_key()).is_err());
        }
    }

    /// Only leaf versions 1 and 2 decode; absent means 1.
    #[test]
    fn unknown_leaf_versions_are_refused(v in any::<u64>()) {
        let mut doc = serde_json::to_value(entry(None, LeafVersion::V2)).unwrap();
        doc["position"]["leaf_version"] = v.into();
        let decoded = serde_json::from_value::<WireEntry>(doc);
        prop_assert_eq!(decoded.is_ok(), v == 1 || v == 2);
    }

    #[test]
    fn enrolment_tickets_from_random_text_never_panic(s in "\\PC{0,120}") {
        let _ = s.parse::<EnrolmentTicket>();
    }

    #[test]
    fn mutated_enrolment_tickets_are_refused_or_well_formed(
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let ticket = EnrolmentTicket {
            address: "192.168.1.20:8443".into(),
            code: "ABCD-EFGH-JKLM".into(),
            certificate_fingerprint: "ab".repeat(32),
        };
        let text = mutate(ticket.to_string().into_bytes(), &mutations);
        if let Ok(t) = String::from_utf8_lossy(&text).parse::<EnrolmentTicket>() {
            prop_assert!(!t.code.is_empty() && !t.address.is_empty());
            prop_assert_eq!(t.certificate_fingerprint.len(), 64);
        }
    }

    /// A checkpoint with any field changed does not verify.
    #[test]
    fn a_changed_checkpoint_never_verifies(field in 0..4usize, text in ".{0,70}", n in any::<u64>()) {
        let original = checkpoint();
        let mut cp = original.clone();
        match field {
            0 => cp.tree_size = n,
            1 => cp.root = text,
            2 => cp.issued_at = text,
            _ => cp.signature = text,
        }
        prop_assume!(cp != original);
        prop_assert!(!cp.verify(&key(9).verifying_key()));
        prop_assert!(original.verify(&key(9).verifying_key()));
    }

    /// Mutated DPoP proofs and access tokens are refused (or, when a mutation happens to leave
    /// the same bytes meaningfully, verify to the same claims): never a panic.
    #[test]
    fn mutated_dpop_proofs_and_tokens_are_refused(
        mutations in proptest::collection::vec(mutation(), 1..4),
        target in 0..2usize,
    ) {
        let device = key(2);
        let server = key(9);
        let now = Utc::now();
        let url = "https://127.0.0.1:8443/v1/state";
        let token = auth::issue_access_token(
            &server,
            "d".repeat(32).as_str(),
            &auth::thumbprint(&device.verifying_key()),
            now,
            Duration::minutes(10),
        );
        let proof = auth::make_proof(&device, "GET", url, Some(&token), now);
        let (good_proof, good_token) = (proof.clone(), token.clone());
        let (proof, token) = if target == 0 {
            (String::from_utf8_lossy(&mutate(proof.into_bytes(), &mutations)).into_owned(), token)
        } else {
            (proof, String::from_utf8_lossy(&mutate(token.into_bytes(), &mutations)).into_owned())
        };
        let good = auth::authenticate(&good_token, &good_proof, "GET", url, &server.verifying_key(), now, Duration::minutes(5)).unwrap();
        if let Ok((claims, verified)) =
            auth::authenticate(&token, &proof, "GET", url, &server.verifying_key(), now, Duration::minutes(5))
        {
            prop_assert_eq!(claims.device_id, good.0.device_id);
            prop_assert_eq!(verified.jti, good.1.jti);
        }
    }

    /// Proofs made of random JSON in a JWT's shape are refused.
    #[test]
    fn random_jwt_shaped_proofs_are_refused(header in odd_json_value(), claims in odd_json_value(), sig in "[A-Za-z0-9_-]{0,90}") {
        use base64::Engine as _;
        let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        let proof = format!("{}.{}.{}", b64(&header), b64(&claims), sig);
        let now = Utc::now();
        prop_assert!(auth::verify_proof(&proof, "POST", "https://h/v1/token", None, now, Duration::minutes(5)).is_err());
        prop_assert!(auth::verify_access_token(&proof, &key(9).verifying_key(), now).is_err());
    }
}
