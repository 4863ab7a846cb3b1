//! Records travelling between workstations through the branch server: the rules both sides
//! run, with no network code (that is `dentpro-sync`).
//!
//! - The server calls [`admit`] for each pushed record: it re-checks the signature, the chain
//!   link and the actor's role and device binding under the same [`crate::permissions`] matrix
//!   and projections the workstations use, then logs the record as accepted or refused.
//! - A workstation calls [`record_receipt`] with the server's answer to a push, and
//!   [`apply_pulled`] with the log entries it pulled.
//!
//! Order: projections are the records applied in the server's log order (accepted ones only),
//! then this device's pending records in local order ([`CANONICAL_ORDER`]). When pulled records
//! land before already-applied records that touch the same subject (a patient edited at two
//! desks), the projections of the subjects they share are replayed in that order
//! ([`crate::replay`]), so every machine converges to the same state whatever order it heard
//! things in.
//!
//! The background sync reaches a workstation through its handle, `ws.sync()` ([`facade`]).

pub mod facade;

use crate::devices::DeviceInitialized;
use crate::kind::{Admit, AdmitContext, Applied, Event, Kind};
use crate::ledger::{insert_record, load_head, read_record};
use crate::permissions::{self, Role};
use crate::record::{GENESIS_PREV_HASH, Record, RecordFault, device_id_for};
use crate::{CoreError, ErrorCode, Result, accounts, registry, replay, store};
use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// Records in the order projections follow: accepted records by log index, then pending ones
/// (this device's, not yet accepted) by local index. Refused records are left out.
pub const CANONICAL_ORDER: &str =
    "SELECT r.* FROM records r LEFT JOIN record_log l ON l.local_index = r.local_index
     WHERE l.verdict IS NULL OR l.verdict = 'accepted'
     ORDER BY l.log_index IS NULL, l.log_index, r.local_index";

const LEAF_TAG_V1: &[u8] = b"dentpro/log-entry/v1\0";
const LEAF_TAG_V2: &[u8] = b"dentpro/log-entry/v2\0";
/// Meta key: the next log index this workstation expects to pull.
const CURSOR_KEY: &str = "sync.next_log_index";

/// The `meta` key of the sync state `key` (`sync.<key>`); the enrolment is not one of them.
pub(crate) fn meta_key(key: &str) -> Result<String> {
    if key.is_empty() || key == "enrolment" || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(CoreError::internal(format!("not a sync meta key: {key}")));
    }
    Ok(format!("sync.{key}"))
}

/// What the server decided about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Refused,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Refused => "refused",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "accepted" => Ok(Verdict::Accepted),
            "refused" => Ok(Verdict::Refused),
            other => Err(CoreError::internal(format!("unknown verdict {other}"))),
        }
    }
}

/// Which form of Merkle leaf covers a log entry (see [`entry_leaf`]). Entries keep the version
/// they were logged with, so checkpoints signed over old entries still verify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum LeafVersion {
    /// Record hash, verdict and reason (entries logged before the skew flag was covered).
    #[default]
    V1,
    /// Also the clock-skew flag.
    V2,
}

impl LeafVersion {
    /// What the server logs new entries with.
    pub const CURRENT: Self = LeafVersion::V2;

    pub fn is_v1(&self) -> bool {
        *self == LeafVersion::V1
    }
}

impl TryFrom<u8> for LeafVersion {
    type Error = String;
    fn try_from(v: u8) -> std::result::Result<Self, String> {
        match v {
            1 => Ok(LeafVersion::V1),
            2 => Ok(LeafVersion::V2),
            other => Err(format!("unknown leaf version {other}")),
        }
    }
}

impl From<LeafVersion> for u8 {
    fn from(v: LeafVersion) -> u8 {
        match v {
            LeafVersion::V1 => 1,
            LeafVersion::V2 => 2,
        }
    }
}

/// A record's place in the server's log and the server's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPosition {
    pub log_index: u64,
    pub verdict: Verdict,
    /// Why it was refused (a stable key, with particulars after a colon).
    pub reason: Option<String>,
    pub clock_skew_seconds: Option<i64>,
    /// Absent on the wire for v1 entries (as the previous version sent them).
    #[serde(default, skip_serializing_if = "LeafVersion::is_v1")]
    pub leaf_version: LeafVersion,
}

/// A record as the server's log holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRecord {
    pub position: LogPosition,
    pub record: Record,
}

/// The Merkle log's leaf for an entry: the record's hash and the verdict, so that a server
/// cannot later flip a verdict without rewriting its log; from v2 on also the clock-skew flag.
///
/// - v1: `SHA-256("dentpro/log-entry/v1\0" || record_hash || verdict || 0x00 || reason?)`
/// - v2: `SHA-256("dentpro/log-entry/v2\0" || record_hash || verdict || 0x00 || opt(reason)
///   || opt(skew))` where `opt(None) = 0x00`, `opt(reason) = 0x01 || u64 BE byte length ||
///   UTF-8`, `opt(skew) = 0x01 || i64 BE seconds`.
pub fn entry_leaf(record_hash: &[u8; 32], position: &LogPosition) -> [u8; 32] {
    let mut h = Sha256::new();
    match position.leaf_version {
        LeafVersion::V1 => {
            h.update(LEAF_TAG_V1);
            h.update(record_hash);
            h.update(position.verdict.as_str().as_bytes());
            h.update([0]);
            if let Some(reason) = &position.reason {
                h.update(reason.as_bytes());
            }
        }
        LeafVersion::V2 => {
            h.update(LEAF_TAG_V2);
            h.update(record_hash);
            h.update(position.verdict.as_str().as_bytes());
            h.update([0]);
            match &position.reason {
                None => h.update([0]),
                Some(reason) => {
                    h.update([1]);
                    h.update((reason.len() as u64).to_be_bytes());
                    h.update(reason.as_bytes());
                }
            }
            match position.clock_skew_seconds {
                None => h.update([0]),
                Some(skew) => {
                    h.update([1]);
                    h.update(skew.to_be_bytes());
                }
            }
        }
    }
    h.finalize().into()
}

fn sync_error(reason: &str, message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::SyncRejected, message).with("reason", reason)
}

/// A seq or log index (from the wire) as SQLite's i64: out of range is a refusal, never a
/// wrap to a negative number.
pub(crate) fn sql_int(what: &str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| sync_error("out_of_range", format!("{what} {v} is out of range")))
}

// ---- the server side ----

/// The enrolled device a push comes from (authenticated by the server before this is called).
pub struct Sender<'a> {
    pub device_id: &'a str,
    pub public_key: &'a VerifyingKey,
    /// Its clock's distance from the server's when it pushed, if beyond the branch's bound.
    pub clock_skew_seconds: Option<i64>,
}

/// What became of one pushed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Logged now, accepted or refused.
    Logged(LogPosition),
    /// The same record was logged before (a retried push): nothing changed.
    AlreadyLogged(LogPosition),
}

impl Admission {
    pub fn position(&self) -> &LogPosition {
        match self {
            Admission::Logged(p) | Admission::AlreadyLogged(p) => p,
        }
    }
}

/// Server: checks one pushed record and appends it to the log (`record_log`), applying it to the
/// server's projections when accepted.
///
/// Errors (nothing written, the rest of the batch must stop): `wrong_device` (a device pushes
/// only its own records), `fork` (another record already holds this seq), `bad_signature`,
/// `seq_gap` / `broken_link` (the chain does not continue from what the server holds).
/// A record that is authentic and in its place but breaks a rule (role, binding, a rule of its
/// business area) is logged as refused, so the device's chain stays whole and the refusal is
/// on the record.
pub fn admit(tx: &Transaction<'_>, sender: &Sender<'_>, record: &Record) -> Result<Admission> {
    admit_checked(tx, sender, record, false)
}

/// Admits a pushed batch in order: the signatures are verified together first (Ed25519 batch
/// verification, about twice as fast), then each record as [`admit`] does. Returns what was
/// admitted before the first error, and that error.
pub fn admit_all(
    tx: &Transaction<'_>,
    sender: &Sender<'_>,
    records: &[Record],
) -> (Vec<Admission>, Option<CoreError>) {
    let signed_by_sender = verify_batch(records, |_| Some(*sender.public_key));
    let mut admitted = Vec::with_capacity(records.len());
    for record in records {
        match admit_checked(tx, sender, record, signed_by_sender) {
            Ok(a) => admitted.push(a),
            Err(e) => return (admitted, Some(e)),
        }
    }
    (admitted, None)
}

/// Whether every record's hash matches it and all signatures verify, as one batch. `false`
/// means "check them one by one" (to name the bad one), not that all are bad.
fn verify_batch(records: &[Record], key_of: impl Fn(&Record) -> Option<VerifyingKey>) -> bool {
    if records.is_empty() || records.iter().any(|r| r.body.hash() != r.hash) {
        return false;
    }
    let Some(keys) = records.iter().map(&key_of).collect::<Option<Vec<_>>>() else {
        return false;
    };
    let messages: Vec<&[u8]> = records.iter().map(|r| &r.hash[..]).collect();
    let signatures: Vec<ed25519_dalek::Signature> = records
        .iter()
        .map(|r| ed25519_dalek::Signature::from_bytes(&r.signature))
        .collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

fn admit_checked(
    tx: &Transaction<'_>,
    sender: &Sender<'_>,
    record: &Record,
    signature_checked: bool,
) -> Result<Admission> {
    let b = &record.body;
    if b.device_id != sender.device_id {
        return Err(sync_error(
            "wrong_device",
            format!(
                "device {} may not push records of device {}",
                sender.device_id, b.device_id
            ),
        ));
    }
    let existing: Option<(Vec<u8>, i64)> = tx
        .prepare_cached("SELECT hash, local_index FROM records WHERE device_id = ?1 AND seq = ?2")?
        .query_row(params![b.device_id, sql_int("seq", b.seq)?], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((hash, local_index)) = existing {
        if hash != record.hash {
            return Err(sync_error(
                "fork",
                format!(
                    "device {} already has a different record at seq {}: a fork",
                    b.device_id, b.seq
                ),
            )
            .with("seq", b.seq.to_string())
            .with("logged_hash", hex::encode(hash)));
        }
        let position = position_of(tx, local_index)?
            .ok_or_else(|| CoreError::internal("a stored record has no log position"))?;
        return Ok(Admission::AlreadyLogged(position));
    }
    match if signature_checked {
        Ok(())
    } else {
        record.check(sender.public_key)
    } {
        Ok(()) => {}
        Err(RecordFault::HashMismatch) => {
            return Err(sync_error("bad_hash", "the record's hash does not match it"));
        }
        Err(RecordFault::BadSignature) => {
            return Err(sync_error(
                "bad_signature",
                format!("record seq {} is not signed by device {}", b.seq, b.device_id),
            ));
        }
    }
    let head = load_head(tx, &b.device_id)?;
    if b.seq != head.seq + 1 {
        return Err(sync_error(
            "seq_gap",
            format!(
                "expected seq {} of device {}, got {}",
                head.seq + 1,
                b.device_id,
                b.seq
            ),
        )
        .with("expected_seq", (head.seq + 1).to_string()));
    }
    if b.prev_hash != head.hash {
        return Err(sync_error(
            "broken_link",
            format!("record seq {} does not link to the previous record", b.seq),
        ));
    }
    let event = registry::decode(&b.kind, b.kind_version, &b.payload);
    let refusal = match &event {
        Err(e) => Some(format!("unreadable: {}", e.message)),
        Ok(event) => check_rules(tx, sender, record, event)?,
    };
    let local_index = insert_record(tx, record)?;
    let refusal = match (refusal, event) {
        (None, Ok(event)) => apply_or_refusal(tx, &event, record, local_index)?,
        (refusal, _) => refusal,
    };
    let position = LogPosition {
        log_index: next_log_index(tx)?,
        verdict: if refusal.is_some() {
            Verdict::Refused
        } else {
            Verdict::Accepted
        },
        reason: refusal,
        clock_skew_seconds: sender.clock_skew_seconds,
        leaf_version: LeafVersion::CURRENT,
    };
    insert_position(tx, local_index, &position)?;
    Ok(Admission::Logged(position))
}

/// Applies `event` under a savepoint; a rule of the business area refusing it (a username taken
/// meanwhile, say) undoes the partial apply and becomes the refusal.
pub(crate) fn apply_or_refusal(
    tx: &Transaction<'_>,
    event: &Event,
    record: &Record,
    local_index: i64,
) -> Result<Option<String>> {
    tx.execute_batch("SAVEPOINT apply_record")?;
    match event.apply(tx, &Applied { local_index, record }) {
        Ok(()) => {
            tx.execute_batch("RELEASE apply_record")?;
            Ok(None)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO apply_record; RELEASE apply_record")?;
            Ok(Some(format!("does_not_apply: {}", e.message)))
        }
    }
}

/// The server's copy of the rules: `None` if the record may be accepted, else why not. The
/// chain's shape and the actor's account and role are checked here for every kind; what is
/// particular to a kind is its own [`crate::kind::Kind::admit_first`] / [`crate::kind::Kind::admit`].
fn check_rules(
    conn: &Connection,
    sender: &Sender<'_>,
    record: &Record,
    event: &Event,
) -> Result<Option<String>> {
    let b = &record.body;
    let genesis = event.kind() == DeviceInitialized::KIND;
    if (b.seq == 1) != genesis {
        return Ok(Some(
            "genesis: a device's first record, and only it, starts its chain".into(),
        ));
    }
    let cx = AdmitContext {
        conn,
        record,
        sender_key: sender.public_key,
    };
    match event.admit_first(&cx)? {
        Admit::Check => {}
        Admit::Founding => return Ok(None),
        Admit::Refuse(reason) => return Ok(Some(reason)),
    }
    let actor_role: Option<Role> = b.actor_role.as_deref().and_then(|r| r.parse().ok());
    let mut account_role = None;
    if let Some(action) = event.required_action() {
        let Some(user_id) = b.actor_user_id.as_deref() else {
            return Ok(Some(format!(
                "unknown_user: {} needs a signed-in user",
                action.as_str()
            )));
        };
        let user = match accounts::user_by_id(conn, &user_id.into()) {
            Ok(u) => u,
            Err(e) if e.code == ErrorCode::NotFound => return Ok(Some(format!("unknown_user: {user_id}"))),
            Err(e) => return Err(e),
        };
        if !user.active {
            return Ok(Some(format!("user_inactive: {}", user.username)));
        }
        if actor_role != Some(user.role) {
            return Ok(Some(format!(
                "role_mismatch: {} is a {}",
                user.username, user.role
            )));
        }
        if let Err(refusal) = permissions::check(user.role, action) {
            return Ok(Some(format!("forbidden: {refusal}")));
        }
        account_role = Some(user.role);
    }
    if let Some(refusal) = event.admit(&cx, account_role)? {
        return Ok(Some(refusal));
    }
    accounts::admit_cashier_terminal(conn, record)
}

fn next_log_index(conn: &Connection) -> Result<u64> {
    let max: Option<i64> = conn
        .prepare_cached("SELECT max(log_index) FROM record_log")?
        .query_row([], |r| r.get(0))?;
    Ok(max.map_or(0, |m| m as u64 + 1))
}

fn insert_position(tx: &Transaction<'_>, local_index: i64, p: &LogPosition) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO record_log (log_index, local_index, verdict, reason, clock_skew_seconds, leaf_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        sql_int("log index", p.log_index)?,
        local_index,
        p.verdict.as_str(),
        p.reason,
        p.clock_skew_seconds,
        u8::from(p.leaf_version)
    ])?;
    Ok(())
}

fn leaf_version_of(v: u8) -> Result<LeafVersion> {
    LeafVersion::try_from(v)
        .map_err(|e| CoreError::new(ErrorCode::Storage, format!("the log holds an entry with an {e}")))
}

fn position_of(conn: &Connection, local_index: i64) -> Result<Option<LogPosition>> {
    let mut stmt = conn.prepare_cached(
        "SELECT log_index, verdict, reason, clock_skew_seconds, leaf_version FROM record_log WHERE local_index = ?1",
    )?;
    let mut rows = stmt.query([local_index])?;
    rows.next()?.map(position_in_row).transpose()
}

/// The log position in a row that has `record_log`'s columns by name.
fn position_in_row(row: &rusqlite::Row<'_>) -> Result<LogPosition> {
    Ok(LogPosition {
        log_index: row.get::<_, i64>("log_index")? as u64,
        verdict: Verdict::parse(&row.get::<_, String>("verdict")?)?,
        reason: row.get("reason")?,
        clock_skew_seconds: row.get("clock_skew_seconds")?,
        leaf_version: leaf_version_of(row.get("leaf_version")?)?,
    })
}

/// Server: log entries from `from` on, at most `limit` (what a pull returns).
pub fn log_entries(conn: &Connection, from: u64, limit: u32) -> Result<Vec<LoggedRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.*, l.log_index, l.verdict, l.reason, l.clock_skew_seconds, l.leaf_version
         FROM record_log l JOIN records r ON r.local_index = l.local_index
         WHERE l.log_index >= ?1 ORDER BY l.log_index LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![sql_int("log index", from)?, limit])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(LoggedRecord {
            record: read_record(row)?,
            position: position_in_row(row)?,
        });
    }
    Ok(out)
}

/// The log's leaves in order, those before `before` (all when `None`): the server rebuilds its
/// Merkle tree from them at start, a workstation its copy of the tree over what it pulled.
pub fn log_leaves(conn: &Connection, before: Option<u64>) -> Result<Vec<[u8; 32]>> {
    let mut stmt = conn.prepare(
        "SELECT r.hash, l.log_index, l.verdict, l.reason, l.clock_skew_seconds, l.leaf_version
         FROM record_log l JOIN records r ON r.local_index = l.local_index
         WHERE l.log_index < ?1 ORDER BY l.log_index",
    )?;
    let mut rows = stmt.query([before.map_or(Ok(i64::MAX), |b| sql_int("log index", b))?])?;
    let mut leaves = Vec::new();
    while let Some(row) = rows.next()? {
        let hash: Vec<u8> = row.get(0)?;
        let hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| CoreError::internal("stored record hash is not 32 bytes"))?;
        let position = position_in_row(row)?;
        if position.log_index != leaves.len() as u64 {
            return Err(CoreError::new(
                ErrorCode::Storage,
                format!("the log has a hole before index {}", position.log_index),
            ));
        }
        leaves.push(entry_leaf(&hash, &position));
    }
    Ok(leaves)
}

/// Where this device's record `seq` is in the log, and its leaf (to check an inclusion proof).
pub fn own_leaf(conn: &Connection, device_id: &str, seq: u64) -> Result<Option<(u64, [u8; 32])>> {
    let row: Option<(Vec<u8>, i64)> = conn
        .query_row(
            "SELECT r.hash, r.local_index FROM records r WHERE r.device_id = ?1 AND r.seq = ?2",
            params![device_id, sql_int("seq", seq)?],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((hash, local_index)) = row else {
        return Ok(None);
    };
    let Some(position) = position_of(conn, local_index)? else {
        return Ok(None);
    };
    let hash: [u8; 32] = hash
        .try_into()
        .map_err(|_| CoreError::internal("stored record hash is not 32 bytes"))?;
    Ok(Some((position.log_index, entry_leaf(&hash, &position))))
}

/// The last seq of `device_id` the log holds (what the device pushes after).
pub fn logged_seq(conn: &Connection, device_id: &str) -> Result<u64> {
    Ok(load_head(conn, device_id)?.seq)
}

// ---- the workstation side ----

/// This device's records after `after_seq`, in order, at most `limit` (what a push sends).
pub fn outbox(conn: &Connection, device_id: &str, after_seq: u64, limit: u32) -> Result<Vec<Record>> {
    let mut stmt =
        conn.prepare_cached("SELECT * FROM records WHERE device_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3")?;
    let rows = stmt.query_map(params![device_id, sql_int("seq", after_seq)?, limit], read_record)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// This device's records the server has not yet accepted or refused.
pub fn pending_count(conn: &Connection, device_id: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM records WHERE device_id = ?1 AND seq > ?2")?
        .query_row(
            params![device_id, sql_int("seq", acked_seq(conn, device_id)?)?],
            |r| r.get(0),
        )?)
}

/// The last seq of this device the server has placed in its log. A device's records reach the
/// log in seq order, so every later one is pending. Walks back from the chain's end through the
/// (device, seq) index, so it costs the pending records, not the whole chain (the status bar
/// asks every few seconds).
pub(crate) fn acked_seq(conn: &Connection, device_id: &str) -> Result<u64> {
    let seq: Option<i64> = conn
        .prepare_cached(
            "SELECT r.seq FROM records r WHERE r.device_id = ?1
             AND EXISTS (SELECT 1 FROM record_log l WHERE l.local_index = r.local_index)
             ORDER BY r.seq DESC LIMIT 1",
        )?
        .query_row([device_id], |r| r.get(0))
        .optional()?;
    Ok(seq.map_or(0, |s| s as u64))
}

/// This device's records the server refused, newest first.
pub fn refused_own(conn: &Connection, device_id: &str) -> Result<Vec<(u64, String, Option<String>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.seq, r.kind, l.reason FROM records r JOIN record_log l ON l.local_index = r.local_index
         WHERE r.device_id = ?1 AND l.verdict = 'refused' ORDER BY r.seq DESC",
    )?;
    let rows = stmt.query_map([device_id], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The next log index this workstation will pull.
pub fn cursor(conn: &Connection) -> Result<u64> {
    Ok(store::meta_get(conn, CURSOR_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Records where the server put this device's pushed records (a push receipt). Own records it
/// refused were applied here when written: they are taken out of the projections.
pub fn record_receipt(conn: &mut Connection, device_id: &str, entries: &[(u64, LogPosition)]) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut refused = Vec::new();
    for (seq, position) in entries {
        let local_index: i64 = tx
            .prepare_cached("SELECT local_index FROM records WHERE device_id = ?1 AND seq = ?2")?
            .query_row(params![device_id, sql_int("seq", *seq)?], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                sync_error(
                    "unknown_record",
                    format!("the receipt names seq {seq}, which this device never wrote"),
                )
            })?;
        match position_of(&tx, local_index)? {
            Some(known) if &known == position => continue,
            Some(known) => {
                return Err(sync_error(
                    "log_changed",
                    format!(
                        "the server placed seq {seq} at log index {} before and now says {}",
                        known.log_index, position.log_index
                    ),
                ));
            }
            None => {}
        }
        insert_position(&tx, local_index, position)?;
        if position.verdict == Verdict::Refused {
            refused.extend(replay::subjects_of(&tx, local_index)?);
        }
    }
    if !refused.is_empty() {
        replay::reproject(&tx, refused)?;
    }
    tx.commit()?;
    Ok(())
}

/// What one pulled batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullOutcome {
    /// Other devices' records stored.
    pub received: u64,
    /// Of those, accepted ones now applied.
    pub applied: u64,
    /// The projections of some subjects were replayed in log order (pulled records landed
    /// before applied ones touching the same subject, or an own record was refused).
    pub reprojected: bool,
    pub next_log_index: u64,
}

/// Stores and applies pulled log entries, which must continue exactly from the cursor; all of
/// them or none (the cursor only moves past what was applied). Every record is checked: its
/// device's signature, its chain link, and that this device's own records are the ones it wrote.
pub fn apply_pulled(
    conn: &mut Connection,
    own_device_id: &str,
    entries: &[LoggedRecord],
) -> Result<PullOutcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut next = cursor(&tx)?;
    let mut keys: HashMap<String, VerifyingKey> = HashMap::new();
    let mut heads: HashMap<String, crate::ledger::ChainHead> = HashMap::new();
    let foreign: Vec<Record> = entries
        .iter()
        .filter(|e| e.record.body.device_id != own_device_id)
        .map(|e| e.record.clone())
        .collect();
    for r in &foreign {
        if !keys.contains_key(&r.body.device_id) {
            let key = foreign_key(&tx, &foreign, &r.body.device_id)?;
            keys.insert(r.body.device_id.clone(), key);
        }
    }
    let signatures_checked = verify_batch(&foreign, |r| keys.get(&r.body.device_id).copied());
    let mut outcome = PullOutcome::default();
    let mut to_apply = Vec::new();
    // Subjects whose projections must be replayed in log order.
    let mut replay_subjects: HashSet<String> = HashSet::new();
    for entry in entries {
        let (p, record) = (&entry.position, &entry.record);
        if p.log_index != next {
            return Err(sync_error(
                "log_gap",
                format!("expected log index {next}, the server sent {}", p.log_index),
            ));
        }
        next += 1;
        let b = &record.body;
        if b.device_id == own_device_id {
            let mine: Option<(Vec<u8>, i64)> = tx
                .prepare_cached("SELECT hash, local_index FROM records WHERE device_id = ?1 AND seq = ?2")?
                .query_row(params![b.device_id, sql_int("seq", b.seq)?], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((hash, local_index)) = mine.filter(|(h, _)| h[..] == record.hash[..]) else {
                return Err(sync_error(
                    "not_my_record",
                    format!(
                        "the server's log holds a record at seq {} of this device that it never wrote",
                        b.seq
                    ),
                )
                .with("seq", b.seq.to_string()));
            };
            debug_assert_eq!(hash.len(), 32);
            match position_of(&tx, local_index)? {
                Some(known) if &known == p => {}
                Some(_) => {
                    return Err(sync_error(
                        "log_changed",
                        format!("seq {} moved in the server's log", b.seq),
                    ));
                }
                None => {
                    insert_position(&tx, local_index, p)?;
                    if p.verdict == Verdict::Refused {
                        // Applied when written: it leaves its subjects' projections.
                        let event = registry::decode(&b.kind, b.kind_version, &b.payload)?;
                        replay_subjects.extend(event.subjects());
                    }
                }
            }
            continue;
        }
        check_foreign(&tx, &keys, &mut heads, record, signatures_checked)?;
        let local_index = insert_record(&tx, record)?;
        insert_position(&tx, local_index, p)?;
        outcome.received += 1;
        if p.verdict == Verdict::Accepted {
            let event = registry::decode(&b.kind, b.kind_version, &b.payload)?;
            to_apply.push((p.log_index, local_index, record, event));
        }
    }
    if !to_apply.is_empty() {
        replay_subjects.extend(replay::landing_before(&tx, own_device_id, &to_apply)?);
    }
    let mut replayed = None;
    if !replay_subjects.is_empty() {
        replayed = Some(replay::reproject(&tx, replay_subjects.iter().cloned())?);
    }
    // The other pulled records commute with everything replayed: applied as they come, with
    // one savepoint for the page rather than one per record (the common case applies).
    tx.execute_batch("SAVEPOINT apply_pulled")?;
    let applied = to_apply
        .iter()
        .filter(|(_, local_index, ..)| !replayed.as_ref().is_some_and(|r| r.covers(*local_index)))
        .try_for_each(|(_, local_index, record, event)| {
            event.apply(
                &tx,
                &Applied {
                    local_index: *local_index,
                    record,
                },
            )
        });
    if applied.is_ok() {
        tx.execute_batch("RELEASE apply_pulled")?;
    } else {
        // Applies on the server but not here: this device's pending records are in the way.
        // Replaying the pulled records' subjects in log order settles it.
        tx.execute_batch("ROLLBACK TO apply_pulled; RELEASE apply_pulled")?;
        replay_subjects.extend(to_apply.iter().flat_map(|p| p.3.subjects()));
        replayed = Some(replay::reproject(&tx, replay_subjects)?);
    }
    outcome.reprojected = replayed.is_some();
    outcome.applied = to_apply.len() as u64;
    store::meta_set(&tx, CURSOR_KEY, &next.to_string())?;
    tx.commit()?;
    outcome.next_log_index = next;
    Ok(outcome)
}

/// The key of `device_id`: from its genesis record, held here already or in this page.
fn foreign_key(tx: &Transaction<'_>, page: &[Record], device_id: &str) -> Result<VerifyingKey> {
    let genesis = match page
        .iter()
        .find(|r| r.body.device_id == device_id && r.body.seq == 1)
    {
        Some(r) => r.clone(),
        None => tx
            .query_row(
                "SELECT * FROM records WHERE device_id = ?1 AND seq = 1",
                [device_id],
                read_record,
            )
            .optional()?
            .ok_or_else(|| sync_error("bad_genesis", format!("device {device_id} has no first record")))?,
    };
    genesis_key(&genesis)
}

/// Another device's record: signed by that device (key from its genesis record, which must
/// hash to its id) and continuing its chain as held here.
fn check_foreign(
    tx: &Transaction<'_>,
    keys: &HashMap<String, VerifyingKey>,
    heads: &mut HashMap<String, crate::ledger::ChainHead>,
    record: &Record,
    signature_checked: bool,
) -> Result<()> {
    let b = &record.body;
    let head = match heads.get(&b.device_id) {
        Some(h) => *h,
        None => load_head(tx, &b.device_id)?,
    };
    if b.seq != head.seq + 1 || b.prev_hash != head.hash {
        return Err(sync_error(
            "broken_chain",
            format!(
                "record seq {} of device {} does not continue its chain",
                b.seq, b.device_id
            ),
        ));
    }
    if !signature_checked {
        let key = keys
            .get(&b.device_id)
            .ok_or_else(|| CoreError::internal("no key for a pulled record"))?;
        record.check(key).map_err(|fault| {
            sync_error(
                "bad_signature",
                format!(
                    "record seq {} of device {} fails its check: {fault:?}",
                    b.seq, b.device_id
                ),
            )
        })?;
    }
    heads.insert(
        b.device_id.clone(),
        crate::ledger::ChainHead {
            seq: b.seq,
            hash: record.hash,
        },
    );
    debug_assert!(b.seq > 1 || b.prev_hash == GENESIS_PREV_HASH);
    Ok(())
}

fn genesis_key(genesis: &Record) -> Result<VerifyingKey> {
    let b = &genesis.body;
    let bad = || {
        sync_error(
            "bad_genesis",
            format!("device {} has no valid first record", b.device_id),
        )
    };
    let Some(init) = registry::decode(&b.kind, b.kind_version, &b.payload)
        .ok()
        .and_then(|e| e.get::<DeviceInitialized>().cloned())
    else {
        return Err(bad());
    };
    let bytes: [u8; 32] = hex::decode(&init.public_key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(bad)?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| bad())?;
    if device_id_for(&key) != b.device_id {
        return Err(bad());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_v1_is_as_before_and_only_v2_covers_the_skew_flag() {
        let v1 = LogPosition {
            log_index: 0,
            verdict: Verdict::Accepted,
            reason: None,
            clock_skew_seconds: None,
            leaf_version: LeafVersion::V1,
        };
        // v1 exactly as the previous version computed it: pinned checkpoints depend on it.
        let mut before = Sha256::new();
        before.update(b"dentpro/log-entry/v1\0");
        before.update([7; 32]);
        before.update(b"accepted\0");
        assert_eq!(entry_leaf(&[7; 32], &v1), <[u8; 32]>::from(before.finalize()));
        let flagged = |p: &LogPosition| LogPosition {
            clock_skew_seconds: Some(10800),
            ..p.clone()
        };
        assert_eq!(entry_leaf(&[7; 32], &flagged(&v1)), entry_leaf(&[7; 32], &v1));
        let v2 = LogPosition {
            leaf_version: LeafVersion::V2,
            ..v1.clone()
        };
        assert_ne!(entry_leaf(&[7; 32], &v2), entry_leaf(&[7; 32], &v1));
        assert_ne!(entry_leaf(&[7; 32], &flagged(&v2)), entry_leaf(&[7; 32], &v2));
        // Length-prefixed: no reason and an empty one differ in v2.
        let empty_reason = LogPosition {
            reason: Some(String::new()),
            ..v2.clone()
        };
        assert_ne!(entry_leaf(&[7; 32], &empty_reason), entry_leaf(&[7; 32], &v2));
    }
}
