//! The audit trail: browsing the records, and verifying that nobody has touched them.
//!
//! Verification needs no secret: each device's first record carries its public key (and the
//! device id is derived from it). It walks every record in local order and checks, per device,
//! contiguous `seq` from 1, the `prev_hash` link, the hash over the canonical bytes, and the
//! signature; then the signed chain-head anchor (so cutting records off the end is seen); then
//! rebuilds every projection from the records and compares it with the live tables (so a table
//! edited behind the app's back is seen). The first problem is named.

use crate::devices::DeviceInitialized;
use crate::ids::{DeviceId, RecordId};
use crate::ledger::{Anchor, read_record};
use crate::record::{GENESIS_PREV_HASH, Record, device_id_for};
use crate::{CoreError, Result, registry, store};
use ed25519_dalek::VerifyingKey;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BadRecord {
    pub local_index: Option<i64>,
    pub seq: Option<i64>,
    pub device_id: Option<DeviceId>,
    pub record_id: Option<RecordId>,
    /// The kind of problem, which the UI translates.
    pub reason: VerifyReason,
    /// The same in English, with the particulars.
    pub problem: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VerifyReport {
    pub ok: bool,
    pub records_checked: i64,
    pub devices: i64,
    pub first_bad: Option<BadRecord>,
    /// What the chain-head anchor said.
    pub anchor: String,
    pub projections_ok: bool,
    pub projection_problem: Option<String>,
    /// SQLite's own check of the file (`PRAGMA integrity_check`: page, table, index), filled
    /// by the audit screen's run (`Workstation::verify_audit`); empty when sound.
    #[serde(default)]
    pub storage_problems: Vec<String>,
}

/// Why verification failed, as a stable key the UI translates (the English particulars go in
/// [`BadRecord::problem`]). Exported to the UI's bindings, so its translations are checked
/// against this list by the TypeScript compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum VerifyReason {
    Malformed,
    SeqGap,
    BadGenesis,
    ChainBroken,
    RecordEdited,
    RecordForged,
    DeviceAbsent,
    AnchorMissing,
    AnchorUnreadable,
    AnchorNotSigned,
    RecordsMissing,
    HeadDiffers,
}

/// What is wrong: the reason and the English particulars.
struct Fault(VerifyReason, String);

fn fault(reason: VerifyReason, detail: impl Into<String>) -> Fault {
    Fault(reason, detail.into())
}

fn bad(record: Option<&Record>, local_index: Option<i64>, Fault(reason, problem): Fault) -> BadRecord {
    BadRecord {
        local_index,
        seq: record.map(|r| r.body.seq as i64),
        device_id: record.map(|r| r.body.device_id.as_str().into()),
        record_id: record.map(|r| r.body.id.as_str().into()),
        reason,
        problem,
    }
}

struct DeviceChain {
    key: VerifyingKey,
    seq: u64,
    hash: [u8; 32],
}

/// Checks one record against its device's chain so far; registers a device at its genesis.
fn check_link(chains: &mut HashMap<String, DeviceChain>, record: &Record) -> std::result::Result<(), Fault> {
    let b = &record.body;
    let chain = match chains.get_mut(&b.device_id) {
        Some(chain) => chain,
        None => {
            if b.seq != 1 {
                return Err(fault(
                    VerifyReason::SeqGap,
                    format!(
                        "first record of device {} has seq {}, expected 1",
                        b.device_id, b.seq
                    ),
                ));
            }
            let event = registry::decode(&b.kind, b.kind_version, &b.payload).map_err(|e| {
                fault(
                    VerifyReason::BadGenesis,
                    format!("undecodable genesis record: {}", e.message),
                )
            })?;
            let Some(init) = event.get::<DeviceInitialized>() else {
                return Err(fault(
                    VerifyReason::BadGenesis,
                    format!(
                        "first record of device {} is {}, expected device.initialized",
                        b.device_id, b.kind
                    ),
                ));
            };
            let key_bytes: [u8; 32] = hex::decode(&init.public_key)
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| {
                    fault(
                        VerifyReason::BadGenesis,
                        "genesis record carries a malformed public key",
                    )
                })?;
            let key = VerifyingKey::from_bytes(&key_bytes)
                .map_err(|_| fault(VerifyReason::BadGenesis, "genesis public key is invalid"))?;
            if device_id_for(&key) != b.device_id {
                return Err(fault(
                    VerifyReason::BadGenesis,
                    "genesis public key does not match the device id",
                ));
            }
            chains.entry(b.device_id.clone()).or_insert(DeviceChain {
                key,
                seq: 0,
                hash: GENESIS_PREV_HASH,
            })
        }
    };
    if b.seq != chain.seq + 1 {
        return Err(fault(
            VerifyReason::SeqGap,
            format!(
                "expected seq {} of device {}, found seq {}",
                chain.seq + 1,
                b.device_id,
                b.seq
            ),
        ));
    }
    if b.prev_hash != chain.hash {
        return Err(fault(
            VerifyReason::ChainBroken,
            "prev_hash does not match the previous record's hash (chain broken)",
        ));
    }
    record.check(&chain.key).map_err(|f| match f {
        crate::record::RecordFault::HashMismatch => fault(
            VerifyReason::RecordEdited,
            "content does not match its hash (record edited)",
        ),
        crate::record::RecordFault::BadSignature => fault(
            VerifyReason::RecordForged,
            "signature is not the device's (record forged)",
        ),
    })?;
    chain.seq = b.seq;
    chain.hash = record.hash;
    Ok(())
}

/// What the chain part of a verification found (no projection check).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChainReport {
    pub records_checked: i64,
    pub devices: i64,
    pub first_bad: Option<BadRecord>,
    /// What the chain-head anchor said.
    pub anchor: String,
}

/// Verifies the chain, the anchor in `data_dir` (if given) and the projections.
pub fn verify(
    conn: &Connection,
    data_dir: Option<&Path>,
    own_device_id: Option<&str>,
) -> Result<VerifyReport> {
    let chain = verify_chain(conn, data_dir, own_device_id)?;
    let projection_problem = if chain.first_bad.is_none() {
        compare_projections(conn)?
    } else {
        None
    };
    Ok(VerifyReport {
        ok: chain.first_bad.is_none() && projection_problem.is_none(),
        records_checked: chain.records_checked,
        devices: chain.devices,
        first_bad: chain.first_bad,
        anchor: chain.anchor,
        projections_ok: projection_problem.is_none(),
        projection_problem,
        storage_problems: Vec::new(),
    })
}

/// Verifies the records alone: per device, contiguous `seq`, `prev_hash` links, hashes and
/// signatures; then the anchor in `data_dir` (if given). The projections are not looked at
/// (see [`compare_projections`]).
pub fn verify_chain(
    conn: &Connection,
    data_dir: Option<&Path>,
    own_device_id: Option<&str>,
) -> Result<ChainReport> {
    let mut chains: HashMap<String, DeviceChain> = HashMap::new();
    let mut checked = 0i64;
    let mut first_bad = None;
    {
        let mut stmt = conn.prepare("SELECT * FROM records ORDER BY local_index")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let local_index: i64 = row.get("local_index")?;
            checked += 1;
            let record = match read_record(row) {
                Ok(r) => r,
                Err(e) => {
                    first_bad = Some(bad(
                        None,
                        Some(local_index),
                        fault(VerifyReason::Malformed, format!("malformed record: {e}")),
                    ));
                    break;
                }
            };
            if let Err(problem) = check_link(&mut chains, &record) {
                first_bad = Some(bad(Some(&record), Some(local_index), problem));
                break;
            }
        }
    }
    let anchor = match (first_bad.is_none(), data_dir, own_device_id) {
        (true, Some(dir), Some(device)) => check_anchor(dir, device, &chains, &mut first_bad),
        _ => "not checked".to_owned(),
    };
    if let (None, Some(device)) = (&first_bad, own_device_id)
        && checked > 0
        && !chains.contains_key(device)
    {
        first_bad = Some(bad(
            None,
            None,
            fault(
                VerifyReason::DeviceAbsent,
                format!("no records of this device ({device}) were found"),
            ),
        ));
    }
    Ok(ChainReport {
        records_checked: checked,
        devices: chains.len() as i64,
        first_bad,
        anchor,
    })
}

fn check_anchor(
    dir: &Path,
    device: &str,
    chains: &HashMap<String, DeviceChain>,
    first_bad: &mut Option<BadRecord>,
) -> String {
    let head = chains.get(device).map(|c| (c.seq, c.hash));
    let (anchors, problem) = match Anchor::read(dir) {
        None if head.is_none() => return "no records yet".into(),
        None => (
            Vec::new(),
            Some(fault(
                VerifyReason::AnchorMissing,
                "the chain-head anchor file is missing",
            )),
        ),
        Some(Err(e)) => (
            Vec::new(),
            Some(fault(
                VerifyReason::AnchorUnreadable,
                format!("the chain-head anchor is unreadable: {e}"),
            )),
        ),
        Some(Ok(a)) => (a, None),
    };
    let mut anchor_seq = 0;
    let problem = problem.or_else(|| {
        let chain = chains.get(device)?;
        let Some(a) = Anchor::newest_valid(&anchors, device, &chain.key) else {
            return Some(fault(
                VerifyReason::AnchorNotSigned,
                "the chain-head anchor is not signed by this device",
            ));
        };
        anchor_seq = a.seq;
        let (seq, hash) = head?;
        if a.seq > seq {
            return Some(fault(
                VerifyReason::RecordsMissing,
                format!(
                    "records {}..={} are missing: the chain ends at seq {seq} but was signed up to seq {}",
                    seq + 1,
                    a.seq,
                    a.seq
                ),
            ));
        }
        (a.seq == seq && a.hash != hex::encode(hash)).then(|| {
            fault(
                VerifyReason::HeadDiffers,
                "the last record differs from the signed chain head",
            )
        })
    });
    match problem {
        Some(Fault(reason, p)) => {
            let summary = format!("FAILED: {p}");
            *first_bad = Some(BadRecord {
                local_index: None,
                // The first record the anchor vouches for that is not in the database.
                seq: Some(head.map_or(0, |h| h.0 as i64) + 1),
                device_id: Some(device.into()),
                record_id: None,
                reason,
                problem: p,
            });
            summary
        }
        None => format!("ok (signed head at seq {anchor_seq})"),
    }
}

/// Every projection table's rows, in a stable order, as text.
pub fn dump_projections(conn: &Connection) -> Result<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for table in registry::projection_tables() {
        // A database of an earlier schema read without migrating (read-only verification) lacks
        // the tables added since: they would start empty, so they read as empty here — and a
        // rebuild holding rows there (records of a kind that version could not write) differs.
        let exists: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)")?
            .query_row([table], |r| r.get(0))?;
        if !exists {
            out.push((table.to_owned(), Vec::new()));
            continue;
        }
        let mut rows = registry::projection_rows(conn, table)?;
        rows.sort();
        out.push((table.to_owned(), rows));
    }
    Ok(out)
}

/// Rebuilds every projection from `source`'s records into a fresh in-memory database, in the
/// same order the live projections follow ([`crate::sync::CANONICAL_ORDER`]).
pub fn rebuild(source: &Connection) -> Result<Connection> {
    let mut target = store::open_in_memory()?;
    let tx = target.transaction()?;
    crate::replay::replay_canonical(source, &tx)?;
    tx.commit()?;
    Ok(target)
}

/// `None` when the live projections equal a rebuild from the records; else the first difference.
pub fn compare_projections(conn: &Connection) -> Result<Option<String>> {
    let rebuilt = rebuild(conn).map_err(|e| CoreError::internal(format!("rebuild failed: {}", e.message)))?;
    let live = dump_projections(conn)?;
    let fresh = dump_projections(&rebuilt)?;
    for ((table, live_rows), (_, fresh_rows)) in live.iter().zip(&fresh) {
        if live_rows != fresh_rows {
            let live_set: std::collections::HashSet<&String> = live_rows.iter().collect();
            let fresh_set: std::collections::HashSet<&String> = fresh_rows.iter().collect();
            let extra = live_rows.iter().find(|r| !fresh_set.contains(r));
            let missing = fresh_rows.iter().find(|r| !live_set.contains(r));
            return Ok(Some(format!(
                "table {table} differs from the records: {}",
                match (extra, missing) {
                    (Some(row), _) => format!("row not produced by any record: {row}"),
                    (None, Some(row)) => format!("row missing: {row}"),
                    _ => "row count differs".into(),
                }
            )));
        }
    }
    Ok(None)
}
