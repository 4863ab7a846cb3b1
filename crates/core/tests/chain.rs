//! Tamper evidence: records edited, deleted, forged, reordered or cut off outside the app with
//! the keyed SQL tool's function (`dentpro db sql`; the database is encrypted, so the `sqlite3`
//! tool cannot read it), after dropping the append-only triggers, are named by verification,
//! and a projection edited behind the app's back is seen too.

mod common;

use common::*;
use dentpro_core::ErrorCode;
use dentpro_core::audit::{self, VerifyReport};
use dentpro_core::demo::demo_patient;
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
use dentpro_core::ledger::read_record;
use dentpro_core::permissions::Role;
use dentpro_core::record::{Record, RecordBody};
use ed25519_dalek::SigningKey;
use std::path::Path;
use std::sync::OnceLock;

/// A closed data dir with a branch, staff, 20 patients, edits and views; built once, copied
/// by every test.
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let clock = clock();
            let (mut ws, admin) = set_up(dir.path(), &clock);
            ws.accounts()
                .create_user(&admin.session_id, &new_user("desk", Role::Receptionist))
                .unwrap();
            ws.accounts()
                .create_user(&admin.session_id, &new_user("doc", Role::Doctor))
                .unwrap();
            let desk = ws.login("desk", PASSWORD).unwrap();
            let doc = ws.login("doc", PASSWORD).unwrap();
            let mut ids = Vec::new();
            for i in 0..20 {
                ids.push(
                    ws.patients()
                        .register(&desk.session_id, &demo_patient(i))
                        .unwrap()
                        .id,
                );
            }
            for (i, id) in ids.iter().enumerate().step_by(3) {
                let mut input = demo_patient(i);
                input.allergies = "Penicillin".into();
                input.phone = format!("+96279{:07}", i);
                ws.patients().update(&doc.session_id, id, &input).unwrap();
                ws.patients().open(&doc.session_id, id).unwrap();
            }
            ws.logout(&desk.session_id).unwrap();
            ws.logout(&doc.session_id).unwrap();
            ws.logout(&admin.session_id).unwrap();
            drop(ws);
            dir
        })
        .path()
}

/// A fresh copy of the template.
fn fresh() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(template(), dir.path());
    dir
}

/// Runs SQL with the keyed SQL tool (`dentpro db sql`), as someone with the key would.
fn db_sql(dir: &Path, sql: &str) -> String {
    dentpro_core::store::run_sql(dir, &db_key(dir), sql)
        .unwrap_or_else(|e| panic!("db sql failed on {sql}: {e:?}"))
}

/// Tampering starts by removing the append-only triggers.
fn tamper(dir: &Path, sql: &str) {
    db_sql(
        dir,
        &format!("DROP TRIGGER IF EXISTS records_no_update; DROP TRIGGER IF EXISTS records_no_delete; {sql}"),
    );
}

fn verify(dir: &Path) -> VerifyReport {
    let conn = open_db(dir);
    audit::verify(&conn, Some(dir), Some(&device_id_of(dir))).unwrap()
}

fn head_seq(dir: &Path) -> i64 {
    db_sql(dir, "SELECT max(seq) FROM records")
        .trim()
        .parse()
        .unwrap()
}

/// The seq of the `n`th (0-based) record of `kind`.
fn seq_of(dir: &Path, kind: &str, n: usize) -> i64 {
    db_sql(
        dir,
        &format!("SELECT seq FROM records WHERE kind = '{kind}' ORDER BY seq LIMIT 1 OFFSET {n}"),
    )
    .trim()
    .parse()
    .unwrap()
}

fn record_at(dir: &Path, seq: i64) -> Record {
    let conn = open_db(dir);
    conn.query_row("SELECT * FROM records WHERE seq = ?1", [seq], read_record)
        .unwrap()
}

fn sql_blob(bytes: &[u8]) -> String {
    format!("X'{}'", hex::encode(bytes))
}

fn sql_text(s: &Option<String>) -> String {
    s.as_ref()
        .map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
}

fn assert_bad(report: &VerifyReport, seq: i64, problem: &str) {
    assert!(!report.ok, "tampering not detected: {report:?}");
    let bad = report.first_bad.as_ref().expect("a bad record is named");
    assert_eq!(bad.seq, Some(seq), "{report:?}");
    assert!(
        bad.problem.contains(problem),
        "problem {:?} should mention {problem:?}",
        bad.problem
    );
    // The stable key the UI translates goes with the English particulars.
    let reason = match problem {
        "edited" => "record_edited",
        "forged" | "signature" => "record_forged",
        "missing" => "records_missing",
        p if p.starts_with("expected seq") => "seq_gap",
        other => panic!("no reason key expected for {other:?}"),
    };
    assert_eq!(serde_json::to_value(bad.reason).unwrap(), reason, "{report:?}");
}

/// The admin's view through the app: verify_audit, itself recorded.
fn verify_in_app(dir: &Path) -> VerifyReport {
    let clock = clock();
    let mut ws = open(dir, &clock).unwrap();
    let admin = ws.login("admin", PASSWORD).unwrap();
    let report = ws.audit().verify(&admin.session_id).unwrap();
    let (kind, user, role) = last_record(&ws);
    assert_eq!(
        (kind.as_str(), user.as_deref(), role.as_deref()),
        ("audit.verified", Some(admin.user_id.as_str()), Some("admin"))
    );
    let payload: String = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT CAST(payload AS TEXT) FROM records ORDER BY local_index DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(payload.contains(&format!("\"ok\":{}", report.ok)), "{payload}");
    report
}

#[test]
fn an_untouched_chain_verifies() {
    let dir = fresh();
    let report = verify(dir.path());
    assert!(report.ok, "{report:?}");
    assert!(report.projections_ok);
    assert_eq!(report.records_checked, head_seq(dir.path()));
    assert_eq!(report.devices, 1);
    assert!(report.anchor.starts_with("ok"), "{}", report.anchor);
    let report = verify_in_app(dir.path());
    assert!(report.ok, "{report:?}");
    // Seq is contiguous from 1 and local order is seq order on a single device.
    let conn = open_db(dir.path());
    let n = count(&conn, "SELECT count(*) FROM records");
    assert_eq!(count(&conn, "SELECT max(seq) FROM records"), n);
    assert_eq!(
        count(&conn, "SELECT count(*) FROM records WHERE seq != local_index"),
        0
    );
}

#[test]
fn triggers_refuse_update_and_delete_of_records() {
    let dir = fresh();
    let conn = open_db(dir.path());
    let before = count(&conn, "SELECT count(*) FROM records");
    let err = conn
        .execute("UPDATE records SET kind = 'patient.viewed' WHERE seq = 5", [])
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn.execute("DELETE FROM records WHERE seq = 5", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn.execute("DELETE FROM records", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert_eq!(count(&conn, "SELECT count(*) FROM records"), before);
    drop(conn);
    // The SQL tool meets the same triggers while they stand.
    let err = dentpro_core::store::run_sql(
        dir.path(),
        &db_key(dir.path()),
        "DELETE FROM records WHERE seq = 5",
    )
    .unwrap_err();
    assert!(err.message.contains("append-only"), "{err:?}");
    assert_eq!(
        count(&open_db(dir.path()), "SELECT count(*) FROM records"),
        before
    );
    assert!(verify(dir.path()).ok);
}

#[test]
fn an_edited_payload_is_named() {
    let dir = fresh();
    let seq = seq_of(dir.path(), "patient.registered", 7);
    let original = record_at(dir.path(), seq);
    tamper(
        dir.path(),
        &format!(
            "UPDATE records SET payload = CAST(replace(CAST(payload AS TEXT), '\"name_en\":\"', '\"name_en\":\"Mallory ') AS BLOB) WHERE seq = {seq}"
        ),
    );
    let edited = record_at(dir.path(), seq);
    assert_ne!(edited.body.payload, original.body.payload, "the edit happened");
    assert_eq!(edited.hash, original.hash);
    let report = verify(dir.path());
    assert_bad(&report, seq, "edited");
    let bad = report.first_bad.as_ref().unwrap();
    assert_eq!(bad.record_id.as_deref(), Some(original.body.id.as_str()));
    assert_eq!(bad.local_index, Some(seq));
    assert!(!report.ok);
    // The app's verification names the same record (and records that it failed).
    let in_app = verify_in_app(dir.path());
    assert_eq!(in_app.first_bad, report.first_bad);
}

#[test]
fn an_edited_actor_or_time_is_named() {
    let dir = fresh();
    let seq = seq_of(dir.path(), "patient.updated", 1);
    tamper(
        dir.path(),
        &format!("UPDATE records SET device_time = '2020-01-01T00:00:00.000Z' WHERE seq = {seq}"),
    );
    assert_bad(&verify(dir.path()), seq, "edited");
    let dir = fresh();
    tamper(
        dir.path(),
        &format!("UPDATE records SET actor_role = 'admin' WHERE seq = {seq}"),
    );
    assert_bad(&verify(dir.path()), seq, "edited");
}

#[test]
fn a_deleted_middle_record_is_named() {
    let dir = fresh();
    let seq = seq_of(dir.path(), "patient.updated", 2);
    tamper(dir.path(), &format!("DELETE FROM records WHERE seq = {seq}"));
    let report = verify(dir.path());
    // The gap is seen at the record after it: seq `seq` is missing.
    assert_bad(&report, seq + 1, &format!("expected seq {seq}"));
    let in_app = verify_in_app(dir.path());
    assert_eq!(in_app.first_bad, report.first_bad);
}

#[test]
fn a_forged_record_is_named() {
    let dir = fresh();
    let head = head_seq(dir.path());
    let last = record_at(dir.path(), head);
    let victim = record_at(dir.path(), seq_of(dir.path(), "patient.registered", 3));
    let patient_id = serde_json::from_slice::<serde_json::Value>(&victim.body.payload).unwrap()["patient_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A well-formed next record with a correct hash and link, signed by a key that is not the
    // device's.
    let body = RecordBody {
        id: uuid::Uuid::now_v7().to_string(),
        device_id: last.body.device_id.clone(),
        seq: head as u64 + 1,
        prev_hash: last.hash,
        kind: "patient.updated".into(),
        kind_version: 1,
        actor_user_id: victim.body.actor_user_id.clone(),
        actor_role: victim.body.actor_role.clone(),
        session_id: None,
        business_date: last.body.business_date.clone(),
        device_time: last.body.device_time.clone(),
        payload: format!(
            r#"{{"changes":[{{"field":"allergies","from":"","to":"None"}}],"patient_id":"{patient_id}"}}"#
        )
        .into_bytes(),
    };
    let forged = body.sign(&SigningKey::from_bytes(&[42u8; 32]));
    let b = &forged.body;
    tamper(
        dir.path(),
        &format!(
            "INSERT INTO records (id, device_id, seq, prev_hash, kind, kind_version, actor_user_id, actor_role,
                session_id, business_date, device_time, payload, hash, signature)
             VALUES ('{}', '{}', {}, {}, '{}', 1, {}, {}, NULL, '{}', '{}', {}, {}, {})",
            b.id,
            b.device_id,
            b.seq,
            sql_blob(&b.prev_hash),
            b.kind,
            sql_text(&b.actor_user_id),
            sql_text(&b.actor_role),
            b.business_date,
            b.device_time,
            sql_blob(&b.payload),
            sql_blob(&forged.hash),
            sql_blob(&forged.signature),
        ),
    );
    assert_eq!(head_seq(dir.path()), head + 1);
    assert_bad(&verify(dir.path()), head + 1, "forged");
}

#[test]
fn reordered_records_are_named() {
    let dir = fresh();
    let i = seq_of(dir.path(), "patient.registered", 4);
    let j = seq_of(dir.path(), "patient.registered", 9);
    let cols = "id, device_id, seq, prev_hash, kind, kind_version, actor_user_id, actor_role, session_id, \
                business_date, device_time, payload, hash, signature";
    tamper(
        dir.path(),
        &format!(
            "CREATE TEMP TABLE swap AS SELECT local_index, {cols} FROM records WHERE local_index IN ({i}, {j});
             UPDATE records SET id = id || '-moving', seq = -seq WHERE local_index IN ({i}, {j});
             UPDATE records SET ({cols}) = (SELECT {cols} FROM swap WHERE swap.local_index = {j}) WHERE local_index = {i};
             UPDATE records SET ({cols}) = (SELECT {cols} FROM swap WHERE swap.local_index = {i}) WHERE local_index = {j};"
        ),
    );
    assert_eq!(record_at(dir.path(), j).body.seq, j as u64);
    let report = verify(dir.path());
    // At position i sits record j.
    assert_bad(&report, j, &format!("expected seq {i}"));
    assert_eq!(report.first_bad.as_ref().unwrap().local_index, Some(i));
}

#[test]
fn truncation_is_seen_through_the_signed_chain_head() {
    let dir = fresh();
    let head = head_seq(dir.path());
    let n = 5;
    tamper(
        dir.path(),
        &format!("DELETE FROM records WHERE seq > {cut}", cut = head - n),
    );
    assert_eq!(head_seq(dir.path()), head - n);
    let report = verify(dir.path());
    assert_bad(&report, head - n + 1, "missing");
    assert!(report.anchor.starts_with("FAILED"), "{}", report.anchor);
    // The app refuses to go on writing over the evidence: a new record would re-sign the head.
    let clock = clock();
    let err = open(dir.path(), &clock).map(drop).unwrap_err();
    assert_eq!(err.code, ErrorCode::Storage, "{err:?}");
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("chain_behind_anchor")
    );
    assert_eq!(head_seq(dir.path()), head - n, "nothing was written");
    assert_bad(&verify(dir.path()), head - n + 1, "missing");
}

#[test]
fn cutting_off_only_the_last_record_is_seen() {
    let dir = fresh();
    let head = head_seq(dir.path());
    tamper(dir.path(), &format!("DELETE FROM records WHERE seq = {head}"));
    assert_bad(&verify(dir.path()), head, "missing");
    assert_code(open(dir.path(), &clock()).map(drop), ErrorCode::Storage);
}

#[test]
fn a_deleted_database_is_not_silently_replaced_by_a_new_chain() {
    let dir = fresh();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("{DB_FILE}{suffix}")));
    }
    let err = assert_code(open(dir.path(), &clock()).map(drop), ErrorCode::Storage);
    assert_eq!(
        err.details.get("reason").map(String::as_str),
        Some("chain_behind_anchor")
    );
}

const ANCHOR_SLOT: usize = 512;

/// The anchor file: two slots written alternately in place, each a head's seq, hash and
/// record signature.
fn anchor_slots(dir: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(dir.join("chain.head")).unwrap();
    assert_eq!(bytes.len(), 2 * ANCHOR_SLOT);
    bytes.chunks(ANCHOR_SLOT).map(<[u8]>::to_vec).collect()
}

/// The first JSON value of a slot (what follows it is left over from longer anchors).
fn slot_json(slot: &[u8]) -> serde_json::Value {
    serde_json::Deserializer::from_slice(slot.trim_ascii())
        .into_iter::<serde_json::Value>()
        .next()
        .unwrap()
        .unwrap()
}

fn slot_seq(slot: &[u8]) -> u64 {
    slot_json(slot)["seq"].as_u64().unwrap()
}

#[test]
fn the_anchor_holds_the_head_records_hash_and_signature_only() {
    let dir = fresh();
    let head = head_seq(dir.path());
    let newest = anchor_slots(dir.path())
        .into_iter()
        .map(|s| slot_json(&s))
        .find(|a| a["seq"] == head)
        .unwrap();
    let stored = record_at(dir.path(), head);
    assert_eq!(newest["hash"], hex::encode(stored.hash));
    assert_eq!(newest["record_signature"], hex::encode(stored.signature));
    // Nothing of the record's content (the file is not encrypted), and no second signature.
    let fields: Vec<&String> = newest.as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["device_id", "hash", "record_signature", "seq"],
        "{newest}"
    );
}

#[test]
fn a_torn_anchor_slot_leaves_the_previous_head() {
    let dir = fresh();
    let head = head_seq(dir.path()) as u64;
    let slots = anchor_slots(dir.path());
    let seqs: Vec<u64> = slots.iter().map(|s| slot_seq(s)).collect();
    assert_eq!(
        seqs.iter().max(),
        Some(&head),
        "one slot holds the head: {seqs:?}"
    );
    assert_eq!(
        seqs.iter().min(),
        Some(&(head - 1)),
        "the other the previous head: {seqs:?}"
    );
    // A power cut tears the newest slot: the other one still vouches for head - 1 (a lag).
    let newest = seqs.iter().position(|s| *s == head).unwrap();
    let mut torn = slots.clone();
    torn[newest][100..300].fill(b'#');
    std::fs::write(dir.path().join("chain.head"), torn.concat()).unwrap();
    let report = verify(dir.path());
    assert!(report.ok, "{report:?}");
    assert!(
        report.anchor.contains(&format!("seq {}", head - 1)),
        "{}",
        report.anchor
    );
    // The app opens and writes on: the anchor catches up.
    let clock = clock();
    let mut ws = open(dir.path(), &clock).unwrap();
    ws.login("admin", PASSWORD).unwrap();
    drop(ws);
    let report = verify(dir.path());
    assert!(report.ok, "{report:?}");
    assert!(
        report.anchor.contains(&format!("seq {}", head + 1)),
        "{}",
        report.anchor
    );
    // Both slots unreadable: reported.
    std::fs::write(dir.path().join("chain.head"), vec![b'#'; 1024]).unwrap();
    let report = verify(dir.path());
    assert!(!report.ok);
    assert!(report.first_bad.unwrap().problem.contains("unreadable"));
}

/// An anchor as files before this layout held it: the head's seq and hash, signed on their own
/// (tag, device id, NUL, big-endian seq, hex hash).
fn legacy_anchor(dir: &Path, seq: u64) -> Vec<u8> {
    let identity = DeviceIdentity::load_or_create(dir, KeyStorePreference::File).unwrap();
    let hash = hex::encode(record_at(dir, seq as i64).hash);
    let mut signed = b"dentpro/chain-head/v1\0".to_vec();
    signed.extend_from_slice(identity.device_id.as_bytes());
    signed.push(0);
    signed.extend_from_slice(&seq.to_be_bytes());
    signed.extend_from_slice(hash.as_bytes());
    let signature = ed25519_dalek::Signer::sign(identity.signing_key(), &signed);
    serde_json::to_vec(&serde_json::json!({
        "device_id": identity.device_id,
        "seq": seq,
        "hash": hash,
        "signature": hex::encode(signature.to_bytes()),
    }))
    .unwrap()
}

#[test]
fn anchor_files_of_earlier_layouts_are_read_and_upgraded() {
    let head = {
        let dir = fresh();
        head_seq(dir.path()) as u64
    };
    let single = |dir: &Path| legacy_anchor(dir, head);
    let two_slots = |dir: &Path| {
        let mut both = Vec::new();
        for seq in [head, head - 1] {
            let mut slot = legacy_anchor(dir, seq);
            slot.resize(512, b' ');
            both.extend(slot);
        }
        both
    };
    // The layout before this one: two 256 KiB slots, each a copy of a head record, payload
    // (patient data) included.
    let record_copies = |dir: &Path| {
        let mut both = Vec::new();
        for seq in [head, head - 1] {
            let record = record_at(dir, seq as i64);
            let mut slot = serde_json::to_vec(&serde_json::json!({
                "device_id": record.body.device_id,
                "seq": seq,
                "hash": hex::encode(record.hash),
                "record": dentpro_core::record::WireRecord::from(&record),
            }))
            .unwrap();
            slot.resize(256 * 1024, b' ');
            both.extend(slot);
        }
        both
    };
    for layout in [&single as &dyn Fn(&Path) -> Vec<u8>, &two_slots, &record_copies] {
        let dir = fresh();
        std::fs::write(dir.path().join("chain.head"), layout(dir.path())).unwrap();
        let report = verify(dir.path());
        assert!(report.ok, "{report:?}");
        assert!(
            report.anchor.contains(&format!("seq {head}")),
            "{}",
            report.anchor
        );
        // A forged legacy anchor (a seq the device never signed) is not believed.
        let forged = String::from_utf8(layout(dir.path())).unwrap().replacen(
            &format!("\"seq\":{head}"),
            &format!("\"seq\":{}", head + 9),
            1,
        );
        std::fs::write(dir.path().join("chain.head"), &forged).unwrap();
        let report = verify(dir.path());
        assert!(
            !report.anchor.contains(&format!("seq {}", head + 9)),
            "{}",
            report.anchor
        );
        // Opening rewrites a file that copies records (before any append); writing again lays
        // out the current file.
        std::fs::write(dir.path().join("chain.head"), layout(dir.path())).unwrap();
        let clock = clock();
        let mut ws = open(dir.path(), &clock).unwrap();
        let anchor = std::fs::read(dir.path().join("chain.head")).unwrap();
        assert!(
            !String::from_utf8_lossy(&anchor).contains("payload"),
            "no record copy is left in the anchor file"
        );
        ws.login("admin", PASSWORD).unwrap();
        drop(ws);
        let seqs: Vec<u64> = anchor_slots(dir.path()).iter().map(|s| slot_seq(s)).collect();
        assert!(seqs.contains(&(head + 1)), "{seqs:?}");
        assert!(verify(dir.path()).ok);
    }
}

#[test]
fn an_edit_with_a_recomputed_hash_fails_the_signature() {
    let dir = fresh();
    let seq = seq_of(dir.path(), "patient.registered", 11);
    let mut record = record_at(dir.path(), seq);
    let text = String::from_utf8(record.body.payload.clone()).unwrap();
    record.body.payload = text
        .replacen("\"name_en\":\"", "\"name_en\":\"Mallory ", 1)
        .into_bytes();
    let new_hash = record.body.hash();
    tamper(
        dir.path(),
        &format!(
            "UPDATE records SET payload = {}, hash = {} WHERE seq = {seq}",
            sql_blob(&record.body.payload),
            sql_blob(&new_hash)
        ),
    );
    let report = verify(dir.path());
    assert_bad(&report, seq, "signature");
    assert_bad(&report, seq, "forged");
    // Re-linking the next record to the new hash changes nothing: the signature still fails.
    tamper(
        dir.path(),
        &format!(
            "UPDATE records SET prev_hash = {} WHERE seq = {}",
            sql_blob(&new_hash),
            seq + 1
        ),
    );
    assert_bad(&verify(dir.path()), seq, "signature");
}

#[test]
fn an_edited_projection_is_seen() {
    let dir = fresh();
    let before = verify(dir.path());
    assert!(before.ok);
    db_sql(
        dir.path(),
        "UPDATE patients SET name_en = 'Mallory Evil' WHERE rowid = (SELECT min(rowid) FROM patients)",
    );
    let report = verify(dir.path());
    assert!(!report.ok, "{report:?}");
    assert!(
        report.first_bad.is_none(),
        "the chain itself is intact: {report:?}"
    );
    assert!(!report.projections_ok);
    let problem = report.projection_problem.as_deref().unwrap();
    assert!(problem.contains("patients"), "{problem}");
    let in_app = verify_in_app(dir.path());
    assert!(!in_app.ok && !in_app.projections_ok);

    // A user row changed behind the app's back (role raised) is seen as well.
    let dir = fresh();
    db_sql(
        dir.path(),
        "UPDATE users SET role = 'admin' WHERE username = 'desk'",
    );
    let report = verify(dir.path());
    assert!(!report.projections_ok);
    assert!(report.projection_problem.as_deref().unwrap().contains("users"));

    // So is a deleted patient row.
    let dir = fresh();
    db_sql(
        dir.path(),
        "DELETE FROM patients WHERE rowid = (SELECT max(rowid) FROM patients)",
    );
    assert!(!verify(dir.path()).projections_ok);

    // And a search index that finds a patient by a name the records never gave (the index
    // keeps no copy of its text, so verification compares its terms).
    let dir = fresh();
    db_sql(
        dir.path(),
        "INSERT INTO patients_fts (rowid, names, phone, file_number)
         SELECT search_key, 'mallory', '', '' FROM patients LIMIT 1",
    );
    let report = verify(dir.path());
    assert!(!report.projections_ok, "{report:?}");
    let problem = report.projection_problem.as_deref().unwrap();
    assert!(
        problem.contains("patients_fts") && problem.contains("mallory"),
        "{problem}"
    );
}

/// Rows indexed under other search terms (an earlier `fold`, or before the index became
/// contentless) could not be taken out by naming today's terms: the next open re-indexes every
/// patient, once.
#[test]
fn a_search_index_of_other_terms_is_rebuilt_at_open() {
    let dir = fresh();
    db_sql(
        dir.path(),
        "UPDATE meta SET value = '0' WHERE key = 'search_terms_version';
         INSERT INTO patients_fts (rowid, names, phone, file_number)
         SELECT search_key, 'oldfold', '', '' FROM patients LIMIT 1",
    );
    assert!(!verify(dir.path()).projections_ok);
    let clock = clock();
    let mut ws = open(dir.path(), &clock).unwrap();
    let admin = ws.login("admin", PASSWORD).unwrap().session_id;
    assert!(ws.patients().search(&admin, "oldfold", 10).unwrap().is_empty());
    drop(ws);
    // The index holds exactly what a rebuild from the records gives.
    assert!(verify(dir.path()).ok);
    assert_eq!(
        db_sql(
            dir.path(),
            "SELECT value FROM meta WHERE key = 'search_terms_version'"
        )
        .trim(),
        dentpro_core::patients::projection::SEARCH_TERMS_VERSION
    );
}

#[test]
fn a_data_directory_has_one_owner_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut ws = open(dir.path(), &clock).unwrap();
    let admin = ws.setup_branch(&setup_input()).unwrap().session_id;
    // A second window, the CLI and the SQL tool are all refused while the first is open, with
    // an error that says so; the owner goes on working.
    let err = open(dir.path(), &clock).map(drop).unwrap_err();
    assert_eq!(err.code, ErrorCode::DataDirInUse, "{err:?}");
    assert!(
        err.message.contains("open in another DentPro window"),
        "{}",
        err.message
    );
    let key = ws.ledger().identity().database_key();
    let err = dentpro_core::store::open_read_only(dir.path(), &key)
        .map(drop)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DataDirInUse, "{err:?}");
    let err = dentpro_core::store::run_sql(dir.path(), &key, "SELECT count(*) FROM records").unwrap_err();
    assert_eq!(err.code, ErrorCode::DataDirInUse, "{err:?}");
    ws.patients().register(&admin, &demo_patient(1)).unwrap();
    // Closed, it opens again, with everything written.
    drop(ws);
    drop(open(dir.path(), &clock).unwrap());
    assert!(verify(dir.path()).ok);
    let conn = open_db(dir.path());
    assert_eq!(count(&conn, "SELECT count(*) FROM patients"), 1);
}

#[test]
fn another_devices_key_is_refused() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let clock = clock();
    let ws_a = open(a.path(), &clock).unwrap();
    let ws_b = open(b.path(), &clock).unwrap();
    assert_ne!(ws_a.device_id(), ws_b.device_id());
    drop((ws_a, ws_b));
    for file in ["device.json", "device.key"] {
        std::fs::copy(b.path().join(file), a.path().join(file)).unwrap();
    }
    let err = open(a.path(), &clock).map(drop).unwrap_err();
    assert_eq!(err.code, ErrorCode::DeviceMismatch, "{err:?}");
    // Only the key file swapped: the key no longer matches device.json.
    let c = tempfile::tempdir().unwrap();
    drop(open(c.path(), &clock).unwrap());
    std::fs::copy(b.path().join("device.key"), c.path().join("device.key")).unwrap();
    let err = open(c.path(), &clock).map(drop).unwrap_err();
    assert_eq!(err.code, ErrorCode::DeviceMismatch, "{err:?}");
}

#[test]
fn a_copied_database_verifies_only_as_its_own_device() {
    // The template's database checked against another device id: its records are not that
    // device's.
    let dir = fresh();
    let conn = open_db(dir.path());
    let report = audit::verify(&conn, None, Some("00000000000000000000000000000000")).unwrap();
    assert!(!report.ok);
    // Without a device (e.g. a server checking records) the chain itself is fine.
    let report = audit::verify(&conn, None, None).unwrap();
    assert!(report.ok, "{report:?}");
}
