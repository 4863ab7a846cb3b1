//! Sync benchmarks, in one run, against the real `dentpro-server` binary on loopback (HTTPS,
//! DPoP, SQLite with `synchronous=FULL`):
//!
//! - **ingest**: a reception desk pushes a 50k-record chain (10k patients registered, 40k file
//!   openings, by a real receptionist account); the server re-validates every record
//!   (signature, chain link, enrolment, the actor's account, role and device binding under the
//!   core's matrix), applies it to its projections, logs it in the Merkle tree and commits
//!   durably. Compared with bare Ed25519 verification of the same signatures on this machine.
//!   Target: ≥ 0.3 of the bare rate.
//! - **catch-up**: a doctor's workstation enrolled after all that pulls and applies the 50k
//!   records (checking every signature and chain link, the consistency proof and the log root).
//!   Target: ≤ 5 s.
//!
//! - **replay bound**: the server runs with a quarter of the default DPoP replay bound per
//!   device, so a catch-up that completes (no `replay_cache_full`) shows the default holds it
//!   four times over; the requests it made are counted by the client and printed.
//!
//! `cargo bench -p dentpro-server --bench sync` (`SYNC_BENCH_RECORDS` sets another size;
//! `SYNC_BENCH_LONG_NOTES=1` gives every patient 3,000 characters of medical history, so pages are bounded
//! by bytes rather than by count: the most requests a catch-up makes).

#[path = "../tests/support/mod.rs"]
mod support;

use dentpro_core::demo::demo_patient;
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
use dentpro_core::devices::DeviceKind;
use dentpro_core::kind::Event;
use dentpro_core::ledger::Ledger;
use dentpro_core::patients::{PatientRegistered, PatientViewed};
use dentpro_core::permissions::Role;
use ed25519_dalek::{Signature, Verifier};
use std::time::Instant;
use support::*;

fn main() {
    let total: usize = std::env::var("SYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let root = tempfile::tempdir().unwrap();
    let long_notes = std::env::var("SYNC_BENCH_LONG_NOTES").is_ok_and(|v| v == "1");
    let replay_bound = dentpro_server::Settings::default().replay_cache_entries / 4;
    let mut server = TestServer::start_with(
        &root.path().join("server"),
        &["--replay-cache-entries", &replay_bound.to_string()],
    );
    let mut reception = Station::open(&root.path().join("reception"));
    let (rita, station) = {
        let mut ws = reception.ws();
        let admin = ws.setup_branch(&setup_input()).unwrap();
        ws.accounts()
            .create_user(&admin.session_id, &new_user("rita", Role::Receptionist))
            .unwrap();
        let rita = dentpro_core::accounts::user_by_username(ws.ledger().conn(), "rita")
            .unwrap()
            .unwrap();
        (rita.id, ws.device_id()[..4].to_uppercase())
    };
    reception.enrol(&server, DeviceKind::Reception);
    reception.sync().unwrap();

    // The chain, written through the ledger in atomic batches (quick to build; each record is
    // what the desk itself would write).
    let started = Instant::now();
    let actor = dentpro_core::test_support::actor(
        &rita,
        Role::Receptionist,
        Some("019a0000-0000-7000-8000-0000000000bb"),
    );
    let patients = total / 5;
    reception.forge_with(|ledger: &mut Ledger| {
        let mut i = 0;
        while i < total {
            let events: Vec<Event> = (i..(i + 1000).min(total))
                .map(|i| {
                    if i < patients {
                        PatientRegistered {
                            patient_id: format!("019a0000-0000-7000-8000-{i:012}").into(),
                            file_number: format!("{station}-{:05}", i + 1),
                            // Unvalidated on purpose (long notes): the input's fields as signed.
                            fields: serde_json::from_value(
                                serde_json::to_value(with_notes(demo_patient(i), long_notes)).unwrap(),
                            )
                            .unwrap(),
                        }
                        .into()
                    } else {
                        PatientViewed {
                            patient_id: format!("019a0000-0000-7000-8000-{:012}", i % patients).into(),
                        }
                        .into()
                    }
                })
                .collect();
            i += events.len();
            ledger.append_all(&actor, events).unwrap();
        }
    });
    eprintln!("built a {total}-record chain in {:.1?}", started.elapsed());

    // Bare: verify the same signatures, nothing else.
    let records = reception.ws().sync().outbox(0, u32::MAX).unwrap();
    let key = DeviceIdentity::load_or_create(&reception.dir, KeyStorePreference::File)
        .unwrap()
        .verifying_key();
    let t = Instant::now();
    for r in &records {
        key.verify(&r.hash, &Signature::from_bytes(&r.signature)).unwrap();
    }
    let bare = records.len() as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    let report = reception.sync().unwrap();
    let ingest_time = t.elapsed();
    assert_eq!(report.pending, 0);
    assert_eq!(report.refused, 0, "{report:?}");
    let ingest = report.pushed as f64 / ingest_time.as_secs_f64();
    println!(
        "ingest: {} records in {ingest_time:.2?} = {ingest:.0}/s (HTTPS, full re-validation, projections, \
         Merkle log, durable commits); bare Ed25519 verification {bare:.0}/s; ratio {:.2} (target >= 0.3)",
        report.pushed,
        ingest / bare,
    );

    let mut doctor = Station::open(&root.path().join("doctor"));
    doctor.enrol(&server, DeviceKind::Doctor);
    let t = Instant::now();
    let report = doctor.sync().unwrap();
    let took = t.elapsed();
    println!(
        "catch-up: a new workstation pulled, checked and applied {} records in {took:.2?} (target <= 5 s)",
        report.pulled,
    );
    // The DPoP replay state of one device must hold every request of a proof window (issue
    // 9). The server above refuses a proof past a quarter of the default bound
    // (`replay_cache_full`), so this catch-up completing shows the default holds four times over.
    let window = 60.0_f64;
    let per_window = (report.requests as f64 * (window / took.as_secs_f64()).min(1.0)).ceil();
    println!(
        "catch-up requests: {} (DPoP proofs) in {took:.2?}, about {per_window:.0} per 60 s proof window on \
         average; completed against a replay bound of {replay_bound} per device (the default is {})",
        report.requests,
        dentpro_server::Settings::default().replay_cache_entries
    );
    assert!(report.pulled as usize >= total);
    server.kill();
}

/// 3,000 characters of medical history (Arabic and English) when `long` is set: a patient with a few
/// years of history, the record size that makes pull pages byte-bounded.
fn with_notes(
    mut patient: dentpro_core::patients::PatientInput,
    long: bool,
) -> dentpro_core::patients::PatientInput {
    if long {
        let line = "Upper left molar sensitive to cold; ألم في الضرس العلوي الأيسر عند البرد. ";
        patient.medical_history = line
            .repeat(3000 / line.chars().count() + 1)
            .chars()
            .take(3000)
            .collect();
    }
    patient
}
