//! Replaying projections when the order of records changes under them.
//!
//! Projections are the records applied in [`CANONICAL_ORDER`]. A workstation applies its own
//! records when it writes them, before the branch server has placed them in its log; when a
//! pulled record lands before one of them (two desks edited one patient offline), or the server
//! refuses one, the projections must come out as if everything had been applied in the log's
//! order. Records that share no *subject* ([`Event::subjects`]: a patient, a user account, a
//! username, a setting, a device, the branch) commute, so only the affected subjects are
//! replayed ([`reproject`]): their rows are deleted from the projection tables and the records
//! about them are re-applied in canonical order, found through indexes (never a scan of the
//! whole history), so the cost is the affected subjects' own history, not the clinic's.
//!
//! What this relies on, for every kind of record (the `Kind` trait's contract):
//! - a record's projection reads and writes only rows of its subjects (a kind with no subject
//!   writes nothing), and every row of a projection table belongs to a subject whose
//!   [`SubjectKind`] deletes it;
//! - the records about a subject are found by its [`SubjectKind::finder`]: a payload field
//!   behind an index, or a (rare) kind read through `records_kind`.
//!
//! The subjects are closed over: re-applying a record re-applies all of its subjects (a
//! `user.created` also claims its username, so the account that holds that name comes along).
//! A constraint no subject declares (two patients with one file number, possible only for two
//! devices sharing a station prefix) shows up as an accepted record that no longer applies:
//! the server applied every accepted record in log order, so it always applies in a full
//! replay; then everything is replayed ([`reproject_all`]), which is always correct.
//!
//! Verification and rebuild still replay every record (`replay_canonical` into a fresh
//! database, `audit::compare_projections`).

use crate::kind::Event;
pub use crate::kind::{Finder, SubjectKind};
use crate::ledger::read_record;
use crate::record::Record;
use crate::registry::subject_kinds;
use crate::sync::{self, CANONICAL_ORDER, Verdict};
use crate::{CoreError, Result, registry};
use rusqlite::{Connection, Transaction, params};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The kind of `subject` and its id (`"branch"` has none). A subject of no registered kind
/// ([`registry::SUBJECT_KINDS`]) makes [`reproject`] replay everything.
fn kind_of(subject: &str) -> Option<(&'static SubjectKind, &str)> {
    let (prefix, id) = subject.split_once(':').unwrap_or((subject, ""));
    subject_kinds().find(|k| k.prefix == prefix).map(|k| (k, id))
}

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// Only these subjects' rows were rebuilt, from these records (local indexes).
    Subjects {
        subjects: BTreeSet<String>,
        records: HashSet<i64>,
    },
    /// Every projection was replayed, for this reason.
    Everything(&'static str),
}

impl Replayed {
    /// Whether the record at `local_index` was applied by this replay.
    pub fn covers(&self, local_index: i64) -> bool {
        match self {
            Replayed::Subjects { records, .. } => records.contains(&local_index),
            Replayed::Everything(_) => true,
        }
    }
}

/// A record about a replayed subject, with its place in the log.
struct Found {
    local_index: i64,
    log_index: Option<i64>,
    verdict: Option<Verdict>,
    record: Record,
    event: Event,
}

impl Found {
    /// Its place in [`CANONICAL_ORDER`]: accepted by log index, then pending by local index.
    fn order(&self) -> (bool, Option<i64>, i64) {
        (self.log_index.is_none(), self.log_index, self.local_index)
    }
}

/// The records that may be about `id` (a superset: the caller keeps those whose subjects name
/// it), with their log positions.
fn candidates(tx: &Connection, finder: Finder, id: &str) -> Result<Vec<Found>> {
    let condition = match finder {
        Finder::Payload(expr) => format!("{expr} = ?1"),
        Finder::Kind(kind) => format!(concat!("r.kind = '{}' AND r.", crate::kind_indexed!()), kind),
    };
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT r.*, l.log_index, l.verdict FROM records r
         LEFT JOIN record_log l ON l.local_index = r.local_index WHERE {condition}"
    ))?;
    let mut rows = match finder {
        Finder::Payload(_) => stmt.query([id])?,
        Finder::Kind(_) => stmt.query([])?,
    };
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let record = read_record(row)?;
        let b = &record.body;
        let event = registry::decode(&b.kind, b.kind_version, &b.payload)?;
        out.push(Found {
            local_index: row.get("local_index")?,
            log_index: row.get("log_index")?,
            verdict: row
                .get::<_, Option<String>>("verdict")?
                .map(|v| Verdict::parse(&v))
                .transpose()?,
            record,
            event,
        });
    }
    Ok(out)
}

/// The local indexes of every record whose subjects include `subject`, found as a replay
/// finds them (for tests and tools: a kind whose subject its finder misses breaks replay).
pub fn records_about(conn: &Connection, subject: &str) -> Result<Vec<i64>> {
    let (kind, id) =
        kind_of(subject).ok_or_else(|| CoreError::internal(format!("no subject kind for {subject}")))?;
    let mut found: Vec<i64> = candidates(conn, kind.finder, id)?
        .into_iter()
        .filter(|f| f.event.subjects().iter().any(|s| s == subject))
        .map(|f| f.local_index)
        .collect();
    found.sort_unstable();
    Ok(found)
}

/// Rebuilds the projections of `subjects` (and of every subject their records also name) in
/// place: deletes their rows and re-applies the records about them in [`CANONICAL_ORDER`]. A
/// pending record of this device that no longer applies is left unapplied, as in a full
/// replay. Falls back to [`reproject_all`] when a subject has no [`SubjectKind`] or an accepted
/// record no longer applies (see the module's notes).
pub fn reproject(tx: &Transaction<'_>, subjects: impl IntoIterator<Item = String>) -> Result<Replayed> {
    let replayed = match replay_subjects(tx, subjects.into_iter().collect())? {
        Ok(replayed) => replayed,
        Err(why) => {
            tracing::warn!(why, "replaying every projection");
            reproject_all(tx)?;
            Replayed::Everything(why)
        }
    };
    if let Replayed::Subjects { subjects, records } = &replayed {
        tracing::debug!(
            subjects = subjects.len(),
            records = records.len(),
            "replayed subjects"
        );
    }
    Ok(replayed)
}

/// `Err(why)` when only a full replay is right.
fn replay_subjects(
    tx: &Transaction<'_>,
    mut queue: Vec<String>,
) -> Result<std::result::Result<Replayed, &'static str>> {
    let mut subjects: BTreeSet<String> = BTreeSet::new();
    let mut found: BTreeMap<i64, Found> = BTreeMap::new();
    while let Some(subject) = queue.pop() {
        if subjects.contains(&subject) {
            continue;
        }
        let Some((kind, id)) = kind_of(&subject) else {
            return Ok(Err("a subject of no known kind"));
        };
        for f in candidates(tx, kind.finder, id)? {
            // Refused records are not applied: the other subjects they name are not affected.
            if found.contains_key(&f.local_index) || f.verdict == Some(Verdict::Refused) {
                continue;
            }
            let named = f.event.subjects();
            if !named.contains(&subject) {
                continue;
            }
            queue.extend(
                named
                    .into_iter()
                    .filter(|s| !subjects.contains(s) && *s != subject),
            );
            found.insert(f.local_index, f);
        }
        subjects.insert(subject);
    }
    for subject in &subjects {
        let (kind, id) = kind_of(subject).expect("checked above");
        (kind.delete)(tx, id)?;
    }
    let mut ordered: Vec<&Found> = found.values().collect();
    ordered.sort_by_key(|f| f.order());
    for f in ordered {
        if let Some(refusal) = sync::apply_or_refusal(tx, &f.event, &f.record, f.local_index)? {
            if f.verdict == Some(Verdict::Accepted) {
                return Ok(Err("an accepted record no longer applies"));
            }
            let b = &f.record.body;
            tracing::warn!(seq = b.seq, device = %b.device_id, %refusal, "a pending record no longer applies");
        }
    }
    Ok(Ok(Replayed::Subjects {
        subjects,
        records: found.into_keys().collect(),
    }))
}

/// The subjects of the record at `local_index`.
pub(crate) fn subjects_of(conn: &Connection, local_index: i64) -> Result<Vec<String>> {
    let (kind, version, payload): (String, u32, Vec<u8>) = conn
        .prepare_cached("SELECT kind, kind_version, payload FROM records WHERE local_index = ?1")?
        .query_row([local_index], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(registry::decode(&kind, version, &payload)?.subjects())
}

/// The subjects that pulled records share with this device's records that come after them in
/// log order (logged later, or still pending) and were applied before them: those must be
/// replayed. Empty when the pulled records simply follow.
pub(crate) fn landing_before(
    tx: &Transaction<'_>,
    own_device_id: &str,
    pulled: &[(u64, i64, &Record, Event)],
) -> Result<HashSet<String>> {
    let first = pulled.iter().map(|p| p.0).min().unwrap_or(u64::MAX);
    let pulled_subjects: HashSet<String> = pulled.iter().flat_map(|p| p.3.subjects()).collect();
    let mut shared = HashSet::new();
    if pulled_subjects.is_empty() {
        return Ok(shared);
    }
    // Own records logged after the first pulled one (a range of the log), and own pending ones
    // (the end of the chain): never the whole chain, which this runs for every pulled page.
    let mut stmt = tx.prepare_cached(
        "SELECT r.kind, r.kind_version, r.payload FROM record_log l
         JOIN records r ON r.local_index = l.local_index
         WHERE l.log_index > ?2 AND l.verdict = 'accepted' AND r.device_id = ?1
         UNION ALL
         SELECT kind, kind_version, payload FROM records WHERE device_id = ?1 AND seq > ?3",
    )?;
    let acked = sync::acked_seq(tx, own_device_id)?;
    let mut rows = stmt.query(params![
        own_device_id,
        sync::sql_int("log index", first)?,
        sync::sql_int("seq", acked)?
    ])?;
    while let Some(row) = rows.next()? {
        let event = registry::decode(&row.get::<_, String>(0)?, row.get(1)?, &row.get::<_, Vec<u8>>(2)?)?;
        shared.extend(
            event
                .subjects()
                .into_iter()
                .filter(|s| pulled_subjects.contains(s)),
        );
    }
    Ok(shared)
}

/// Replays every projection from the records in [`CANONICAL_ORDER`], in place: what
/// [`reproject`] falls back to, with a cost that grows with the whole history.
pub fn reproject_all(tx: &Transaction<'_>) -> Result<()> {
    for table in registry::projection_tables() {
        registry::clear_projection(tx, table)?;
    }
    replay_canonical(tx, tx)
}

/// Applies `source`'s records in [`CANONICAL_ORDER`] to `target`'s projections (the same
/// database when replaying everything, a fresh one when rebuilding for verification).
pub(crate) fn replay_canonical(source: &Connection, target: &Transaction<'_>) -> Result<()> {
    let mut stmt = source.prepare(CANONICAL_ORDER)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let record = read_record(row)?;
        let local_index: i64 = row.get("local_index")?;
        let b = &record.body;
        let event = registry::decode(&b.kind, b.kind_version, &b.payload)?;
        if let Some(refusal) = sync::apply_or_refusal(target, &event, &record, local_index)? {
            tracing::warn!(seq = b.seq, device = %b.device_id, %refusal, "a pending record no longer applies");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projection_table_is_emptied_by_some_subject() {
        let covered: BTreeSet<&str> = subject_kinds().flat_map(|k| k.tables.iter().copied()).collect();
        let declared: BTreeSet<&str> = registry::projection_tables().into_iter().collect();
        assert_eq!(covered, declared);
    }

    #[test]
    fn subjects_split_into_their_kind_and_id() {
        let (kind, id) = kind_of("patient:019a-1").unwrap();
        assert_eq!((kind.prefix, id), ("patient", "019a-1"));
        let (kind, id) = kind_of("username:sara").unwrap();
        assert_eq!((kind.prefix, id), ("username", "sara"));
        let (kind, id) = kind_of("branch").unwrap();
        assert_eq!((kind.prefix, id), ("branch", ""));
        assert!(kind_of("appointment:1").is_none());
    }

    /// Each finder reads through an index: a scan of `records` would make replay cost the
    /// whole history again.
    #[test]
    fn finders_read_through_an_index() {
        let conn = crate::store::open_in_memory().unwrap();
        // As the workstation opens it (the planner then never looks at bound values).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .unwrap();
        for kind in subject_kinds() {
            let condition = match kind.finder {
                Finder::Payload(expr) => format!("{expr} = ?1"),
                Finder::Kind(k) => format!(concat!("r.kind = '{}' AND r.", crate::kind_indexed!()), k),
            };
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT r.*, l.log_index, l.verdict FROM records r
                 LEFT JOIN record_log l ON l.local_index = r.local_index WHERE {condition}"
            );
            let plan: Vec<String> = conn
                .prepare(&sql)
                .unwrap()
                .query_map(
                    rusqlite::params_from_iter(
                        ["x"]
                            .iter()
                            .take(matches!(kind.finder, Finder::Payload(_)).into()),
                    ),
                    |r| r.get::<_, String>(3),
                )
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let on_records = plan.iter().find(|p| p.contains(" r ")).unwrap();
            assert!(
                on_records.starts_with("SEARCH r USING INDEX"),
                "{}: {plan:?}",
                kind.prefix
            );
        }
    }
}
