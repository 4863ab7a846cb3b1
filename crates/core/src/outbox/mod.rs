//! The outbox: side effects that must happen once after a record commits — writing a document
//! to the documents store now; printing, SMS, email and gateway calls later — and never on
//! replay, rebuild, verification, a pull, or the branch server.
//!
//! How it holds:
//! - **Queued in the record's transaction.** [`crate::ledger::Ledger::append_with_effects`]
//!   inserts one `outbox` row per [`Effect`] (migration V10) in the same durable transaction as
//!   the record: the record and its pending effect commit together or not at all. Only that
//!   call queues; replay, rebuild and verification apply records through `Project::apply`,
//!   pulls and the server's admission through `ledger::insert_and_apply`/`sync`, none of which
//!   touch this table — so none of them runs an effect.
//! - **Run after the commit, surviving restarts.** A worker takes the due rows
//!   ([`Outbox::due`]), performs each effect ([`Receivers::perform`], without the database, so
//!   the desktop shell's outbox thread holds the workstation only to read and to mark), then
//!   marks it done ([`Outbox::finish`]); [`Outbox::run`] does the three in one call. A crash
//!   before "done" leaves the row due: it runs again after the restart.
//! - **At least once, seen once.** Every row carries an idempotency key (`<record id>/<n>`),
//!   handed to the receiver, which keeps the first delivery and ignores repeats (the documents
//!   store is content-addressed: a second write of a document is a [`Delivery::Duplicate`]).
//! - **Retries with backoff.** A failed effect (disk full, a gateway offline) is retried after
//!   2 s, 4 s, … up to 10 minutes, the error kept on the row.
//!
//! Failpoints for the crash tests: with `DENTPRO_OUTBOX_FAILPOINT=before_effect` (or
//! `after_effect`) set, the worker announces `dentpro-outbox-failpoint <name>` on stderr and
//! stops there for good (the test kills the process with SIGKILL).

use crate::clock::format_instant;
use crate::documents::{Delivery, DocumentStore};
use crate::record::Record;
use crate::{CoreError, Result};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

pub const FAILPOINT_ENV: &str = "DENTPRO_OUTBOX_FAILPOINT";
/// The most effects one pass takes.
pub const BATCH: u32 = 64;
const FIRST_RETRY_SECONDS: i64 = 2;
const MAX_RETRY_SECONDS: i64 = 600;

/// A side effect, as the command that causes it describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write a rendered document (its id is its SHA-256) to this workstation's documents store.
    StoreDocument { document_id: String, bytes: Vec<u8> },
}

impl Effect {
    const STORE_DOCUMENT: &'static str = "document.store";

    fn kind(&self) -> &'static str {
        match self {
            Effect::StoreDocument { .. } => Self::STORE_DOCUMENT,
        }
    }

    fn target(&self) -> &str {
        match self {
            Effect::StoreDocument { document_id, .. } => document_id,
        }
    }

    fn body(&self) -> &[u8] {
        match self {
            Effect::StoreDocument { bytes, .. } => bytes,
        }
    }
}

/// Queues `effects` of `record` inside the record's own transaction (called by the ledger only).
pub(crate) fn queue(tx: &Transaction<'_>, record: &Record, effects: &[Effect]) -> Result<()> {
    for (n, effect) in effects.iter().enumerate() {
        tx.prepare_cached(
            "INSERT INTO outbox (idempotency_key, record_id, effect, target, body, next_attempt_at,
                created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?
        .execute(params![
            format!("{}/{n}", record.body.id),
            record.body.id,
            effect.kind(),
            effect.target(),
            effect.body(),
            record.body.device_time,
        ])?;
    }
    Ok(())
}

/// An effect waiting to be performed.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub idempotency_key: String,
    pub record_id: String,
    pub effect: String,
    pub target: String,
    pub body: Vec<u8>,
    pub attempts: u32,
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Effects performed and marked done (duplicates included).
    pub done: u32,
    /// Of those, deliveries the receiver already had (a retry after a crash).
    pub duplicates: u32,
    /// Effects that failed and wait for their retry.
    pub failed: u32,
}

impl RunReport {
    /// Counts one attempt's outcome.
    pub fn count(&mut self, outcome: &Result<Delivery>) {
        match outcome {
            Ok(Delivery::Duplicate) => {
                self.done += 1;
                self.duplicates += 1;
            }
            Ok(Delivery::New) => self.done += 1,
            Err(_) => self.failed += 1,
        }
    }
}

/// The receivers effects are delivered to.
#[derive(Debug, Clone)]
pub struct Receivers {
    pub documents: DocumentStore,
}

impl Receivers {
    /// Performs one effect; repeating it with the same key changes nothing at the receiver.
    /// Runs without the database: the shell calls it with the workstation unlocked. The crash
    /// tests' failpoints are on either side of the effect, whoever calls it.
    pub fn perform(&self, pending: &Pending) -> Result<Delivery> {
        failpoint("before_effect");
        let outcome = match pending.effect.as_str() {
            Effect::STORE_DOCUMENT => self.documents.put(&pending.target, &pending.body),
            other => Err(CoreError::internal(format!("unknown outbox effect {other}"))),
        };
        failpoint("after_effect");
        outcome
    }
}

impl crate::Workstation {
    /// The effects this workstation's records queued, and their receivers (the worker's view).
    pub fn outbox(&self) -> Outbox<'_> {
        let documents = DocumentStore::new(self.data_dir(), self.ledger().identity());
        Outbox::new(self.ledger().conn(), Receivers { documents }, self.now())
    }
}

/// The outbox of a workstation's database.
pub struct Outbox<'a> {
    conn: &'a Connection,
    receivers: Receivers,
    now: DateTime<Utc>,
}

impl<'a> Outbox<'a> {
    pub fn new(conn: &'a Connection, receivers: Receivers, now: DateTime<Utc>) -> Self {
        Self { conn, receivers, now }
    }

    pub fn receivers(&self) -> &Receivers {
        &self.receivers
    }

    /// Effects due now, oldest first.
    pub fn due(&self, limit: u32) -> Result<Vec<Pending>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, idempotency_key, record_id, effect, target, body, attempts FROM outbox
             WHERE done_at IS NULL AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![format_instant(self.now), limit], |r| {
            Ok(Pending {
                id: r.get(0)?,
                idempotency_key: r.get(1)?,
                record_id: r.get(2)?,
                effect: r.get(3)?,
                target: r.get(4)?,
                body: r.get(5)?,
                attempts: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records the outcome of `pending`'s attempt: done, or due again after a backoff.
    pub fn finish(&self, pending: &Pending, outcome: &Result<Delivery>) -> Result<()> {
        match outcome {
            Ok(_) => {
                // The receiver holds the effect now: the body is not needed any more.
                self.conn.execute(
                    "UPDATE outbox SET done_at = ?2, attempts = attempts + 1, body = NULL,
                        last_error = NULL WHERE id = ?1",
                    params![pending.id, format_instant(self.now)],
                )?;
            }
            Err(e) => {
                let attempts = pending.attempts + 1;
                let next = self.now + retry_after(attempts);
                tracing::warn!(key = %pending.idempotency_key, attempts, error = %e, "outbox effect failed; will retry");
                self.conn.execute(
                    "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE id = ?1",
                    params![pending.id, attempts, format_instant(next), e.message],
                )?;
            }
        }
        Ok(())
    }

    /// Performs every effect due now and marks each: the worker's whole pass in one call.
    pub fn run(&self) -> Result<RunReport> {
        let mut report = RunReport::default();
        for pending in self.due(BATCH)? {
            let outcome = self.receivers.perform(&pending);
            report.count(&outcome);
            self.finish(&pending, &outcome)?;
        }
        Ok(report)
    }

    /// Effects not yet done.
    pub fn pending_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox WHERE done_at IS NULL", [], |r| {
                r.get(0)
            })?)
    }

    /// When the next effect not yet done is due (for the worker's sleep).
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<String> = self
            .conn
            .query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE done_at IS NULL",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        Ok(next
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }
}

/// The pause before attempt `attempts + 1`: 2 s, 4 s, 8 s … 10 minutes.
pub fn retry_after(attempts: u32) -> chrono::Duration {
    let factor = 1i64.checked_shl(attempts.saturating_sub(1)).unwrap_or(i64::MAX);
    chrono::Duration::seconds(FIRST_RETRY_SECONDS.saturating_mul(factor).min(MAX_RETRY_SECONDS))
}

/// Stops the process's worker for good at `point` when the crash tests ask for it.
pub fn failpoint(point: &str) {
    if std::env::var(FAILPOINT_ENV).is_ok_and(|p| p == point) {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "dentpro-outbox-failpoint {point}");
        let _ = err.flush();
        loop {
            std::thread::park();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_two_seconds_to_ten_minutes() {
        let secs: Vec<i64> = [1, 2, 3, 9, 10, 40]
            .map(|a| retry_after(a).num_seconds())
            .to_vec();
        assert_eq!(secs, [2, 4, 8, 512, 600, 600]);
    }
}
