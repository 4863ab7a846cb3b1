//! Incremental replay: what a conflicting edit costs when it lands at a desk, against the size
//! of the desk's history. Two desks are built in one run, a small one (5k records) and a large
//! one (500k records: a few years of a busy branch), on real encrypted SQLite files; the bulk
//! comes from another desk of the branch through the real pull path (signatures, chain links,
//! projections, durable commits, pages of 1,000): patients registered, files opened, addresses
//! edited, staff logging in and out.
//!
//! Each round, at both desks: this desk changes a subject (pending), and another desk's change
//! of the same subject, which reached the log first, is pulled. The pull has to replay that
//! subject in log order; its time (check, store, replay, durable commit) is measured. Rounds
//! alternate between the desks, so both see the same machine. Two shapes:
//! - **patient edit**: both desks edit one patient's phone (a patient with the same history
//!   at both sizes: registered, its file opened five times, one earlier edit);
//! - **account change**: this desk deactivates an account while another desk resets its
//!   password (an account with the same history at both sizes: created, two logins).
//!
//! Target: the large desk's median within 2× of the small one's. Printed beside it: a full
//! replay of every projection at the large desk (what every such pull cost before), and the
//! account change for a staff account whose logins grew with the history (the cost is the
//! affected subject's own history, not the clinic's).
//!
//! Measured on the shared 2-core machine (December 2026, other builds running): patient edit
//! 2.06 ms at 5,195 records, 2.78 ms at 500,195 (ratio 1.35); account change 1.13 ms and
//! 0.92 ms (0.82); a staff account with 2,503 records about it 1.40 s; a full replay at
//! 500,195 records 90.8 s. Building the 500k desk took 12.6 minutes. After the contentless
//! search index (V14, whose edits of unindexed fields leave the index alone), on a quieter
//! machine: patient edit 0.78–1.01 ms and 0.78–0.87 ms (ratio 0.85–1.00), a full replay 5.4 s,
//! the 500k desk built in 44 s.
//!
//! `cargo bench -p dentpro-core --bench replay` (`REPLAY_BENCH_SMALL`, `REPLAY_BENCH_LARGE` and
//! `REPLAY_BENCH_ROUNDS` set other sizes).

#[path = "../tests/common/mod.rs"]
mod common;

use common::desk::{Desk, desk};
use common::{PASSWORD, logged_next, new_user, pull_into};
use dentpro_core::accounts::{LoggedOut, LoginSucceeded, PasswordReset};
use dentpro_core::demo::demo_patient;
use dentpro_core::ids::{PatientId, UserId};
use dentpro_core::kind::Event;
use dentpro_core::patients::{FieldChange, PatientRegistered, PatientUpdated, PatientViewed};
use dentpro_core::permissions::Role;
use dentpro_core::{patients, replay};
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

/// Staff accounts whose logins fill the bulk.
const STAFF: usize = 10;
const PAGE: usize = 1000;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A desk of the shared builder (`tests/common/desk.rs`), with a history of `total` records.
struct Bench {
    desk: Desk,
    /// The subjects of each round: (patient, account).
    rounds: Vec<(PatientId, UserId)>,
    /// A staff account with a login every few records of the bulk.
    busy_account: UserId,
    records: i64,
}

impl Deref for Bench {
    type Target = Desk;
    fn deref(&self) -> &Desk {
        &self.desk
    }
}

impl DerefMut for Bench {
    fn deref_mut(&mut self) -> &mut Desk {
        &mut self.desk
    }
}

impl Bench {
    fn build(total: usize, rounds: usize) -> Bench {
        let started = Instant::now();
        let mut d = desk();
        let staff: Vec<UserId> = (0..STAFF)
            .map(|i| {
                d.ws.accounts()
                    .create_user(&d.admin, &new_user(&format!("staff{i}"), Role::Receptionist))
                    .unwrap()
                    .id
            })
            .collect();
        d.push(|_| false);

        // The bulk, from another desk, pulled in pages.
        let patients = |i: usize| format!("019a0000-0000-7000-8000-{i:012}");
        let mut addresses: Vec<String> = Vec::new();
        let mut page = Vec::with_capacity(PAGE);
        let mut i = 0;
        while i < total {
            let event: Event = match i % 20 {
                0 | 10 => {
                    let fields =
                        patients::validate(&demo_patient(addresses.len()), chrono::NaiveDate::MAX).unwrap();
                    addresses.push(fields.address.clone());
                    PatientRegistered {
                        patient_id: patients(addresses.len() - 1).into(),
                        file_number: format!("B{:04}-{:06}", total % 10_000, addresses.len()),
                        fields,
                    }
                    .into()
                }
                7 | 17 => {
                    let p = (i * 7919) % addresses.len();
                    let to = format!("Street {i}, Amman");
                    let from = std::mem::replace(&mut addresses[p], to.clone());
                    PatientUpdated {
                        patient_id: patients(p).into(),
                        changes: vec![FieldChange {
                            field: "address".into(),
                            from,
                            to,
                        }],
                    }
                    .into()
                }
                5 => LoginSucceeded {
                    user_id: staff[(i / 20) % STAFF].clone(),
                    session_id: format!("019a0000-0000-7000-9000-{i:012}").into(),
                }
                .into(),
                15 => LoggedOut {
                    user_id: staff[(i / 20) % STAFF].clone(),
                    session_id: format!("019a0000-0000-7000-9000-{:012}", i - 10).into(),
                }
                .into(),
                _ => PatientViewed {
                    patient_id: patients((i * 104_729) % addresses.len()).into(),
                }
                .into(),
            };
            page.extend(d.other.write(&d.admin_id, event));
            i += 1;
            if page.len() >= PAGE || i == total {
                pull_into(&mut d.ws, &std::mem::take(&mut page));
            }
        }

        // The subjects of the rounds, with the same history at every size.
        let mut subjects = Vec::with_capacity(rounds);
        for r in 0..rounds {
            let patient =
                d.ws.patients()
                    .register(&d.admin, &demo_patient(1_000_000 + r))
                    .unwrap()
                    .id;
            for _ in 0..5 {
                d.ws.patients().open(&d.admin, &patient).unwrap();
            }
            let mut edited = patients::get(d.ws.ledger().conn(), &patient).unwrap().fields;
            edited.address = "Irbid".into();
            d.ws.patients().update(&d.admin, &patient, &edited).unwrap();
            let username = format!("round{r}");
            let account =
                d.ws.accounts()
                    .create_user(&d.admin, &new_user(&username, Role::Doctor))
                    .unwrap()
                    .id;
            for _ in 0..2 {
                let session = d.ws.login(&username, PASSWORD).unwrap();
                d.ws.logout(&session.session_id).unwrap();
            }
            subjects.push((patient, account));
        }
        d.push(|_| false);
        let records = common::record_count(&d.ws);
        eprintln!("built a desk of {records} records in {:.1?}", started.elapsed());
        Bench {
            desk: d,
            rounds: subjects,
            busy_account: staff[0].clone(),
            records,
        }
    }

    /// This desk's change of a subject (pending), then the timed pull of another desk's change
    /// of it that the log holds first.
    fn conflict(&mut self, ours: impl FnOnce(&mut Self), theirs: Event) -> Duration {
        ours(self);
        let admin_id = self.admin_id.clone();
        let records = self.other.write(&admin_id, theirs);
        let entries = logged_next(&mut self.ws, records);
        let t = Instant::now();
        let outcome = self.ws.sync().apply_pulled(&entries).unwrap();
        let took = t.elapsed();
        assert!(outcome.reprojected, "{outcome:?}");
        self.push(|_| false);
        took
    }

    fn patient_edit(&mut self, round: usize) -> Duration {
        let patient = self.rounds[round].0.clone();
        let before = patients::get(self.ws.ledger().conn(), &patient.as_str().into())
            .unwrap()
            .fields;
        let (admin, p) = (self.admin.clone(), patient.clone());
        let theirs = PatientUpdated {
            patient_id: patient.clone(),
            changes: vec![FieldChange {
                field: "phone".into(),
                from: before.phone.clone(),
                to: "0793333333".into(),
            }],
        };
        self.conflict(
            move |d| {
                let mut edited = before;
                edited.phone = "0792222222".into();
                d.ws.patients().update(&admin, &p, &edited).unwrap();
            },
            theirs.into(),
        )
    }

    fn account_change(&mut self, account: &str) -> Duration {
        let admin = self.admin.clone();
        let a = UserId::new(account);
        let theirs = PasswordReset {
            user_id: account.into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
        };
        self.conflict(
            move |d| {
                d.ws.accounts().deactivate(&admin, &a).unwrap();
            },
            theirs.into(),
        )
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let small_n = env_or("REPLAY_BENCH_SMALL", 5_000);
    let large_n = env_or("REPLAY_BENCH_LARGE", 500_000);
    let rounds = env_or("REPLAY_BENCH_ROUNDS", 15);
    let mut small = Bench::build(small_n, rounds);
    let mut large = Bench::build(large_n, rounds);

    let (mut patient, mut account) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for r in 0..rounds {
        for (i, desk) in [&mut small, &mut large].into_iter().enumerate() {
            patient[i].push(desk.patient_edit(r));
            let acct = desk.rounds[r].1.clone();
            account[i].push(desk.account_change(&acct));
        }
    }
    for (shape, [s, l]) in [("patient edit", patient), ("account change", account)] {
        let (s, l) = (median(s), median(l));
        println!(
            "{shape} conflict: {:.2?} at {} records, {:.2?} at {} records; ratio {:.2} (target <= 2)",
            s,
            small.records,
            l,
            large.records,
            l.as_secs_f64() / s.as_secs_f64()
        );
    }

    // A staff account that logged in all along: its own history grew with the desk's.
    let logins = |d: &Bench| -> i64 {
        replay::records_about(d.ws.ledger().conn(), &format!("user:{}", d.busy_account))
            .unwrap()
            .len() as i64
    };
    let busy = [small.busy_account.clone(), large.busy_account.clone()];
    let s = small.account_change(&busy[0]);
    let l = large.account_change(&busy[1]);
    println!(
        "account change of a busy staff account: {s:.2?} ({} records about it) at {} records, \
         {l:.2?} ({} records about it) at {} records",
        logins(&small),
        small.records,
        logins(&large),
        large.records
    );

    // What every such pull cost before: all projections replayed (rolled back here).
    let conn = large.ws.ledger().conn();
    let tx = conn.unchecked_transaction().unwrap();
    let t = Instant::now();
    replay::reproject_all(&tx).unwrap();
    let full = t.elapsed();
    drop(tx);
    println!(
        "full replay of every projection at {} records: {full:.2?}",
        large.records
    );
}
