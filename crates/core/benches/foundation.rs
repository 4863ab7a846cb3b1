//! Foundation benchmarks, on real SQLite files in a temp dir:
//!
//! - `append/full_write_path` (a patient registered through the facade by a signed-in
//!   receptionist: permission check, validation, signature, chain, projection incl. FTS, durable
//!   commit, anchor — the heaviest record) and `append/full_write_path_file_opened` (a patient's
//!   file opened: permission check, the `patient.viewed` record through the same path, the file
//!   and its history read back — the most frequent record) against `append/bare_durable_insert`
//!   (one similar-size row in its own transaction, same pragmas). Target: full ≥ 0.5 × bare.
//!   The interleaved lines also give a signed bare insert (the bare insert plus one SHA-256 and
//!   one Ed25519 signature: the ceiling any signed record can reach on that disk at that moment)
//!   and a file's read-back alone (so the file opened's write path without it).
//! - `verify/chain_100k` (verifying a 100k-record chain) against `verify/bare_ed25519_100k`
//!   (100k plain Ed25519 verifications of 32-byte messages). Target: ≥ 0.5 × bare. The
//!   projection check of a full `audit::verify` is timed once and printed.
//! - `search/type_ahead_100k`: patient search over 100k patients with a mix of realistic
//!   queries; p50/p99 over 5,000 queries are printed. Target: p99 ≤ 5 ms.

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use dentpro_core::audit;
use dentpro_core::clock::SystemClock;
use dentpro_core::demo::demo_patient;
use dentpro_core::device::{DeviceIdentity, KeyStorePreference};
use dentpro_core::ledger::{Actor, Ledger};
use dentpro_core::patients::{self, PatientRegistered, PatientViewed};
use dentpro_core::permissions::Role;
use dentpro_core::store;
use dentpro_core::{devices::DeviceInitialized, kind::Event};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIG: usize = 100_000;
const BATCH: usize = 1_000;

// ---- append ----

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (mut ws, desk) = dentpro_core::test_support::bench_desk(dir.path().join("workstation"));
    // The size of a patient.registered row in `records`, all columns together.
    ws.patients().register(&desk, &demo_patient(0)).unwrap();
    let record_bytes: i64 = ws
        .ledger()
        .conn()
        .query_row(
            "SELECT length(id) + length(device_id) + 8 + length(prev_hash) + length(kind) + 4
                + coalesce(length(actor_user_id), 0) + coalesce(length(actor_role), 0)
                + coalesce(length(session_id), 0) + length(business_date) + length(device_time)
                + length(payload) + length(hash) + length(signature)
             FROM records WHERE kind = 'patient.registered' ORDER BY local_index DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();

    // The bare baseline: the same encryption (SQLCipher, a raw key) and pragmas (a single
    // owner, WAL, durable commits), a plain table, a row of the same size. The physical limit
    // of a durable write now includes the cipher.
    let bare = store::open_keyed(&dir.path().join("bare.sqlite3"), &store::DbKey::random()).unwrap();
    bare.pragma_update(None, "locking_mode", "EXCLUSIVE").unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.pragma_update(None, "synchronous", "FULL").unwrap();
    bare.execute_batch("CREATE TABLE rows (id INTEGER PRIMARY KEY, key TEXT NOT NULL, body BLOB NOT NULL)")
        .unwrap();
    let body = vec![0x5au8; record_bytes as usize - 16];

    // Files to open: round-robin, so each file's history (read back on opening) stays short.
    let files: Vec<dentpro_core::ids::PatientId> = (0..1000)
        .map(|k| {
            ws.patients()
                .register(&desk, &demo_patient(100_000 + k))
                .unwrap()
                .id
        })
        .collect();

    let insert_row = |bare: &mut Connection, n: &mut u64, body: &[u8]| {
        *n += 1;
        let tx = bare.transaction().unwrap();
        tx.execute(
            "INSERT INTO rows (key, body) VALUES (?1, ?2)",
            params![format!("row-{n:012}"), body],
        )
        .unwrap();
        tx.commit().unwrap();
    };
    let bare_insert = |bare: &mut Connection, n: &mut u64| insert_row(bare, n, &body);
    // The least any signed, durable record can cost: the bare insert plus what every record
    // pays before it, the SHA-256 of its bytes and one Ed25519 signature of that hash (the
    // signed chain is an invariant). Its ratio to the bare insert is the ceiling any write
    // path can reach on this disk at this moment.
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let signed_insert = |bare: &mut Connection, n: &mut u64| {
        let hash: [u8; 32] = Sha256::digest(&body).into();
        let signature = key.sign(&hash).to_bytes();
        insert_row(bare, n, &[&body[..], &signature[..]].concat());
    };
    // What opening a file reads back after its record commits (the file, its history and its
    // conflicts), alone: the file opened minus this is its write path.
    let read_back = |ws: &dentpro_core::workstation::Workstation, id: &dentpro_core::ids::PatientId| {
        let conn = ws.ledger().conn();
        black_box((
            patients::get(conn, id).unwrap(),
            patients::history(conn, id).unwrap(),
            patients::conflicts(conn, id).unwrap(),
        ));
    };
    let mut bare = bare;
    let (mut i, mut v, mut n) = (0usize, 0usize, 0u64);

    let mut group = c.benchmark_group("append");
    group.throughput(Throughput::Elements(1));
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("full_write_path", |b| {
        b.iter(|| {
            i += 1;
            black_box(ws.patients().register(&desk, &demo_patient(i)).unwrap());
        })
    });
    group.bench_function("full_write_path_file_opened", |b| {
        b.iter(|| {
            v += 1;
            black_box(ws.patients().open(&desk, &files[v % files.len()]).unwrap());
        })
    });
    group.bench_function("bare_durable_insert", |b| {
        b.iter(|| bare_insert(&mut bare, &mut n))
    });
    group.finish();
    eprintln!("append: a patient.registered row in records is {record_bytes} bytes, so is the bare row");

    // The disk's fsync latency drifts; criterion measures one after the other. Also measure
    // them interleaved (blocks of 100, rotating) so all three see the same disk.
    let (mut register, mut open, mut plain) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut signed, mut read) = (Duration::ZERO, Duration::ZERO);
    let (rounds, block) = (10u32, 100u32);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..block {
            i += 1;
            black_box(ws.patients().register(&desk, &demo_patient(i)).unwrap());
        }
        register += t.elapsed();
        let t = Instant::now();
        for _ in 0..block {
            v += 1;
            black_box(ws.patients().open(&desk, &files[v % files.len()]).unwrap());
        }
        open += t.elapsed();
        let t = Instant::now();
        for _ in 0..block {
            bare_insert(&mut bare, &mut n);
        }
        plain += t.elapsed();
        let t = Instant::now();
        for _ in 0..block {
            signed_insert(&mut bare, &mut n);
        }
        signed += t.elapsed();
        let t = Instant::now();
        for k in 0..block as usize {
            read_back(&ws, &files[(v + k) % files.len()]);
        }
        read += t.elapsed();
    }
    let ops = f64::from(rounds * block);
    let rate = |d: Duration| ops / d.as_secs_f64();
    eprintln!(
        "append (interleaved, {} each): bare durable insert {:.0}/s ({:.0?} each); \
         patient registered {:.0}/s ({:.0?}) ratio {:.2}; file opened {:.0}/s ({:.0?}) ratio {:.2}",
        rounds * block,
        rate(plain),
        plain / (rounds * block),
        rate(register),
        register / (rounds * block),
        rate(register) / rate(plain),
        rate(open),
        open / (rounds * block),
        rate(open) / rate(plain),
    );
    let each = |d: Duration| d / (rounds * block);
    let write_only = open.saturating_sub(read);
    eprintln!(
        "append (same rounds): signed bare insert {:.0?} each, ratio {:.2} (the ceiling for any \
         signed record here); a file read back alone {:.0?}, so a file opened's write path \
         {:.0?}, ratio {:.2}",
        each(signed),
        rate(signed) / rate(plain),
        each(read),
        each(write_only),
        rate(write_only) / rate(plain),
    );
}

// ---- a 100k-record ledger, built once ----

fn ledger_in(dir: &Path) -> Ledger {
    let identity = DeviceIdentity::load_or_create(dir, KeyStorePreference::File).unwrap();
    let conn = store::open_bound(dir, &identity).unwrap();
    let public_key = hex::encode(identity.verifying_key().as_bytes());
    let mut ledger = Ledger::new(conn, identity, Arc::new(SystemClock), Some(dir)).unwrap();
    let init = DeviceInitialized {
        public_key,
        key_storage: "file".into(),
        app_version: "bench".into(),
    };
    ledger.append(&Actor::system(), init.into()).unwrap();
    ledger
}

fn desk_actor() -> Actor {
    // Benches write through the ledger directly; the app's actors come from authorization.
    dentpro_core::test_support::actor(
        "019a0000-0000-7000-8000-0000000000aa",
        Role::Receptionist,
        Some("019a0000-0000-7000-8000-0000000000bb"),
    )
}

/// Appends `n` events made by `make`, in atomic batches of [`BATCH`].
fn fill(ledger: &mut Ledger, n: usize, make: impl Fn(usize) -> Event) {
    let actor = desk_actor();
    let mut i = 0;
    while i < n {
        let events: Vec<Event> = (i..(i + BATCH).min(n)).map(&make).collect();
        i += events.len();
        ledger.append_all(&actor, events).unwrap();
    }
}

// ---- verify ----

struct Chain {
    dir: tempfile::TempDir,
    conn: Connection,
    device_id: String,
}

/// A 100k-record chain (file openings, a cheap kind), built once in atomic batches.
fn chain_100k() -> Chain {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut ledger = ledger_in(dir.path());
    fill(&mut ledger, BIG - 1, |i| {
        PatientViewed {
            patient_id: format!("019a0000-0000-7000-8000-{:012}", i % 5000).into(),
        }
        .into()
    });
    let device_id = ledger.identity().device_id.clone();
    let key = ledger.identity().database_key();
    drop(ledger);
    eprintln!("verify: built a {BIG}-record chain in {:.1?}", started.elapsed());
    let conn = store::open_keyed(&dir.path().join(store::DB_FILE), &key).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, BIG);

    // One full verification (chain + projection rebuild and compare), timed once.
    let t = Instant::now();
    let report = audit::verify(&conn, Some(dir.path()), Some(&device_id)).unwrap();
    let full = t.elapsed();
    assert!(report.ok, "{report:?}");
    let t = Instant::now();
    assert_eq!(audit::compare_projections(&conn).unwrap(), None);
    eprintln!(
        "verify: one full audit::verify of {BIG} records took {full:.2?} (its projection check alone {:.2?})",
        t.elapsed()
    );
    Chain { dir, conn, device_id }
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(BIG as u64));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(10));
    let mut chain = None;
    group.bench_function("chain_100k", |b| {
        let Chain { dir, conn, device_id } = chain.get_or_insert_with(chain_100k);
        b.iter(|| {
            let report = audit::verify_chain(conn, Some(dir.path()), Some(device_id)).unwrap();
            assert!(report.first_bad.is_none(), "{report:?}");
            assert_eq!(report.records_checked, BIG as i64);
        })
    });
    drop(chain);
    // The bare baseline: 100k signatures over 32-byte messages, one by one.
    let mut signed = None;
    group.bench_function("bare_ed25519_100k", |b| {
        let (public, signed) = signed.get_or_insert_with(|| {
            let key = SigningKey::from_bytes(&[7u8; 32]);
            let signed: Vec<([u8; 32], Signature)> = (0..BIG)
                .map(|i| {
                    let mut m = [0u8; 32];
                    m[..8].copy_from_slice(&(i as u64).to_be_bytes());
                    (m, key.sign(&m))
                })
                .collect();
            (key.verifying_key(), signed)
        });
        b.iter(|| {
            for (m, sig) in signed.iter() {
                public.verify(black_box(m), sig).unwrap();
            }
        })
    });
    group.finish();
}

// ---- search ----

/// A mix of what reception types: 1–3 letter prefixes in English and Arabic, phone digits
/// (also in Arabic-Indic digits), file numbers, two-word queries.
fn queries(station: &str) -> Vec<String> {
    let fixed = [
        "a",
        "ah",
        "ahm",
        "s",
        "sa",
        "sar",
        "o",
        "om",
        "oma",
        "k",
        "kh",
        "kha",
        "h",
        "ha",
        "had",
        "l",
        "li",
        "lin",
        "y",
        "yo",
        "you",
        "n",
        "na",
        "nas",
        "d",
        "da",
        "dar",
        "m",
        "ma",
        "man",
        "q",
        "qa",
        "أ",
        "اح",
        "احم",
        "أحم",
        "س",
        "سا",
        "سار",
        "ع",
        "عم",
        "عمر",
        "خ",
        "خل",
        "خلي",
        "ح",
        "حد",
        "حدا",
        "م",
        "من",
        "منص",
        "ن",
        "نا",
        "ناص",
        "ي",
        "يو",
        "يوس",
        "9",
        "96",
        "962",
        "9627",
        "96271",
        "962712",
        "9627123",
        "96279",
        "962790",
        "٩٦٢٧",
        "٩٦٢٧١٢",
        "ahmad h",
        "sara kh",
        "omar n",
        "lina sa",
        "yousef m",
        "huda d",
        "ali b",
        "noor j",
        "أحمد ح",
        "سارة خ",
        "عمر ن",
        "لينا ص",
        "يوسف م",
    ];
    let mut out: Vec<String> = fixed.iter().map(|s| (*s).to_owned()).collect();
    for n in [1, 17, 523, 4_999, 12_345, 77_777, 99_999] {
        out.push(format!("{station}-{n:05}"));
        out.push(format!("{}-{:04}", station.to_lowercase(), n / 10));
    }
    out.push(station.to_owned());
    out
}

struct Registry {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    queries: Vec<String>,
}

const LIMIT: u32 = 20;

/// 100k patients registered in atomic batches, then the latency distribution of the query mix.
fn registry_100k() -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut ledger = ledger_in(dir.path());
    let station = ledger.identity().device_id[..4].to_uppercase();
    fill(&mut ledger, BIG, |i| {
        PatientRegistered {
            patient_id: dentpro_core::ids::PatientId::generate(),
            file_number: format!("{station}-{:05}", i + 1),
            fields: dentpro_core::patients::validate(&demo_patient(i), chrono::NaiveDate::MAX).unwrap(),
        }
        .into()
    });
    eprintln!("search: registered {BIG} patients in {:.1?}", started.elapsed());
    let conn = ledger.conn();
    let queries = queries(&station);
    let mut per_query: Vec<(Duration, &String, usize)> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            let hits = patients::search(conn, q, LIMIT).unwrap().len();
            (t.elapsed(), q, hits)
        })
        .collect();
    let mut times: Vec<Duration> = (0..5_000)
        .map(|i| {
            let q = &queries[(i * 7) % queries.len()];
            let t = Instant::now();
            black_box(patients::search(conn, q, LIMIT).unwrap());
            t.elapsed()
        })
        .collect();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    eprintln!(
        "search: type-ahead over {BIG} patients, {} queries (limit {LIMIT}): p50 {:.3?}  p90 {:.3?}  p99 {:.3?}  max {:.3?}",
        times.len(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        times[times.len() - 1]
    );
    per_query.sort_by_key(|q| std::cmp::Reverse(q.0));
    eprintln!(
        "search: slowest queries (first run): {}",
        per_query
            .iter()
            .take(8)
            .map(|(t, q, n)| format!("{q:?} {t:.2?} ({n} hits)"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Registry {
        _dir: dir,
        ledger,
        queries,
    }
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("search");
    group.throughput(Throughput::Elements(1));
    group
        .sample_size(50)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    let mut registry = None;
    let mut i = 0;
    group.bench_function("type_ahead_100k", |b| {
        let r = registry.get_or_insert_with(registry_100k);
        b.iter(|| {
            i += 1;
            black_box(patients::search(r.ledger.conn(), &r.queries[i % r.queries.len()], LIMIT).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, append, verify, search);
criterion_main!(benches);
