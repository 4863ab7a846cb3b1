//! The one write path. Every change of state is an [`Event`] appended here as a signed record,
//! in the same SQLite transaction as the projection updates it causes, then committed durably.
//! Nothing else in the crate writes projection tables.

use crate::audit::AccessDenied;
use crate::clock::{Clock, format_instant};
use crate::device::{DeviceIdentity, write_atomically};
use crate::kind::{Applied, Event};
use crate::permissions::{self, Action, Role};
use crate::record::{GENESIS_PREV_HASH, Record, RecordBody, WireRecord};
use crate::{CoreError, ErrorCode, Result};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ANCHOR_FILE: &str = "chain.head";
/// The anchor file holds two slots of this size, each one anchor (JSON, then anything).
/// Appends overwrite them in place, alternately, so a write torn by a power cut spoils at most
/// one slot and the other still holds an older (lagging, allowed) head. The first layout had
/// this size too; an anchor is about 300 bytes.
const ANCHOR_SLOT: usize = 512;
/// Slot size of files whose anchors carried the head record itself, payload included (read
/// only: such a file is rewritten at open, so that no patient data stays in it).
const RECORD_ANCHOR_SLOT: usize = 256 * 1024;
const ANCHOR_TAG: &[u8] = b"dentpro/chain-head/v1\0";

/// The condition of the `records` kind index (`records_kind`, migration V13): every kind but the
/// most frequent, a file opened (`patient.viewed`), which no query looks up by kind. SQLite uses
/// a partial index only for a query that repeats its condition, so a query by kind adds
/// `AND kind_indexed!()`; the queries that must use the index say `INDEXED BY records_kind`,
/// which fails loudly if the condition is missing.
#[macro_export]
macro_rules! kind_indexed {
    () => {
        "kind <> 'patient.viewed'"
    };
}

/// Who a record is written for. Only the authorization step makes one for a user
/// ([`crate::workstation::Workstation::authorize`], sign-in and the branch's first setup, all
/// inside this crate); [`Actor::system`] is the device itself, which holds no role and so can
/// write only kinds that require no action (device records, refusals). Tests and benches get
/// theirs from the hidden test-support module, never the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub(crate) user_id: Option<String>,
    pub(crate) role: Option<Role>,
    pub(crate) session_id: Option<String>,
}

impl Actor {
    /// The device itself: records with no signed-in user (device start, enrolment, a failed
    /// login of an unknown name).
    pub fn system() -> Self {
        Self {
            user_id: None,
            role: None,
            session_id: None,
        }
    }

    pub(crate) fn new(user_id: &str, role: Option<Role>, session_id: Option<&str>) -> Self {
        Self {
            user_id: Some(user_id.to_owned()),
            role,
            session_id: session_id.map(str::to_owned),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// Why this actor may not cause `event`, if it may not: the kind's required action checked
    /// against the actor's role with [`permissions::check`], the function the branch server
    /// runs on every pushed record.
    fn refusal(&self, event: &Event) -> Option<(Action, String)> {
        let action = event.required_action()?;
        match self.role {
            None => Some((
                action,
                format!("no role may {} without signing in", action.as_str()),
            )),
            Some(role) => permissions::check(role, action).err().map(|why| (action, why)),
        }
    }
}

/// The last record of this device's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: [u8; 32],
}

/// The chain head kept beside the database, so that cutting records off the end of the chain
/// (which leaves a valid shorter chain) is detected. Written after each durable commit, in
/// place and without an fsync of its own (a second fsync per record would halve the write
/// rate): it may lag the database after a crash or power cut (allowed), never lead it.
///
/// The anchor holds the head record's device, seq, hash and the record's own signature, which
/// is an Ed25519 signature over that 32-byte hash (see `record.rs`): enough to vouch for the
/// head, with no second signature per append and nothing of the record's content (the file is
/// not encrypted, and must hold no patient data). Files of earlier versions carry a copy of the
/// whole head record, or a signature over the anchor bytes; both are still read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Anchor {
    pub device_id: String,
    pub seq: u64,
    pub hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<WireRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Anchor {
    fn signed_bytes(device_id: &str, seq: u64, hash: &str) -> Vec<u8> {
        let mut m = ANCHOR_TAG.to_vec();
        m.extend_from_slice(device_id.as_bytes());
        m.push(0);
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(hash.as_bytes());
        m
    }

    /// The anchor of the record with this hash and signature.
    fn of_head(device_id: &str, seq: u64, hash: &[u8; 32], signature: &[u8; 64]) -> Self {
        Self {
            device_id: device_id.to_owned(),
            seq,
            hash: hex::encode(hash),
            record_signature: Some(hex::encode(signature)),
            record: None,
            signature: None,
        }
    }

    /// Whether `key` vouches for this anchor's device, seq and hash.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        if let Some(sig) = &self.record_signature {
            let (Ok(hash), Ok(sig)) = (
                crate::record::hex_array::<32>("hash", &self.hash),
                crate::record::hex_array::<64>("record_signature", sig),
            ) else {
                return false;
            };
            return key.verify(&hash, &Signature::from_bytes(&sig)).is_ok();
        }
        if let Some(record) = &self.record {
            return Record::try_from(record).is_ok_and(|r| {
                r.body.device_id == self.device_id
                    && r.body.seq == self.seq
                    && hex::encode(r.hash) == self.hash
                    && r.check(key).is_ok()
            });
        }
        let Some(sig) = self
            .signature
            .as_deref()
            .and_then(|s| crate::record::hex_array::<64>("signature", s).ok())
        else {
            return false;
        };
        key.verify(
            &Self::signed_bytes(&self.device_id, self.seq, &self.hash),
            &Signature::from_bytes(&sig),
        )
        .is_ok()
    }

    /// Every anchor readable in `data_dir`'s anchor file, one per slot (files of earlier layouts
    /// included); `None` when there is no file.
    pub fn read(data_dir: &Path) -> Option<std::result::Result<Vec<Anchor>, String>> {
        let path = data_dir.join(ANCHOR_FILE);
        if !path.exists() {
            return None;
        }
        Some(std::fs::read(&path).map_err(|e| e.to_string()).and_then(|bytes| {
            // Each slot starts with its JSON; what follows it in the slot is left over from
            // longer anchors. A slot torn mid-write fails to parse or to verify.
            let anchors: Vec<Anchor> = [0, ANCHOR_SLOT, RECORD_ANCHOR_SLOT]
                .into_iter()
                .filter_map(|offset| bytes.get(offset..))
                .filter_map(|slot| {
                    serde_json::Deserializer::from_slice(slot.trim_ascii_start())
                        .into_iter::<Anchor>()
                        .next()?
                        .ok()
                })
                .collect();
            if anchors.is_empty() {
                Err("no readable anchor in the file".into())
            } else {
                Ok(anchors)
            }
        }))
    }

    /// Of `anchors`, the newest one `key` vouches for on `device_id`.
    pub fn newest_valid<'a>(
        anchors: &'a [Anchor],
        device_id: &str,
        key: &VerifyingKey,
    ) -> Option<&'a Anchor> {
        anchors
            .iter()
            .filter(|a| a.device_id == device_id && a.verify(key))
            .max_by_key(|a| a.seq)
    }
}

pub struct Ledger {
    conn: Connection,
    identity: DeviceIdentity,
    clock: Arc<dyn Clock>,
    head: ChainHead,
    anchor_path: Option<PathBuf>,
    /// The anchor file, kept open once laid out with its two slots, and the slot written next.
    anchor_file: Option<std::fs::File>,
    anchor_slot: u64,
}

impl Ledger {
    /// `data_dir` is where the chain-head anchor lives; `None` keeps no anchor (in-memory use).
    pub fn new(
        conn: Connection,
        identity: DeviceIdentity,
        clock: Arc<dyn Clock>,
        data_dir: Option<&Path>,
    ) -> Result<Self> {
        let head = load_head(&conn, &identity.device_id)?;
        if let Some(dir) = data_dir {
            refuse_if_behind_anchor(dir, &identity, head)?;
        }
        let mut ledger = Self {
            conn,
            identity,
            clock,
            head,
            anchor_path: data_dir.map(|d| d.join(ANCHOR_FILE)),
            anchor_file: None,
            anchor_slot: 0,
        };
        ledger.rewrite_record_anchors()?;
        Ok(ledger)
    }

    /// Replaces an anchor file of the layout that copied the head record (patient data, in a
    /// file that is not encrypted) by the current layout, at once rather than at the next append.
    fn rewrite_record_anchors(&mut self) -> Result<()> {
        let Some(path) = self.anchor_path.clone() else {
            return Ok(());
        };
        let Some(Ok(anchors)) = Anchor::read(path.parent().unwrap_or(Path::new("."))) else {
            return Ok(());
        };
        if self.head.seq == 0 {
            return Ok(()); // nothing to anchor; verification reports the file
        }
        let leftover = std::fs::metadata(&path).is_ok_and(|m| m.len() != 2 * ANCHOR_SLOT as u64);
        if !leftover && anchors.iter().all(|a| a.record.is_none()) {
            return Ok(());
        }
        let signature: Vec<u8> = self.conn.query_row(
            "SELECT signature FROM records WHERE device_id = ?1 AND seq = ?2",
            params![self.identity.device_id, self.head.seq as i64],
            |r| r.get(0),
        )?;
        let signature: [u8; 64] = signature
            .try_into()
            .map_err(|_| CoreError::internal("stored record signature is not 64 bytes"))?;
        let anchor = Anchor::of_head(
            &self.identity.device_id,
            self.head.seq,
            &self.head.hash,
            &signature,
        );
        self.put_anchor(&path, &anchor_slot(&anchor))?;
        tracing::info!("rewrote the chain-head anchor without the head record's content");
        Ok(())
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// For sync, which writes other devices' records and log positions (never this device's
    /// chain: that only grows through [`Ledger::append_all`]).
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn head(&self) -> ChainHead {
        self.head
    }

    /// Appends one event: record + projection in one durable transaction.
    pub fn append(&mut self, actor: &Actor, event: Event) -> Result<Record> {
        let mut records = self.append_all(actor, vec![event])?;
        Ok(records.pop().expect("one event gives one record"))
    }

    /// Appends several events atomically: all of them or none. Refused, and the refusal
    /// recorded as `access.denied`, when the actor's role does not allow a kind's action.
    ///
    /// **Architecture invariant:** this is the only code that inserts this device's records;
    /// every record passes the role check here, whoever called.
    pub fn append_all(&mut self, actor: &Actor, events: Vec<Event>) -> Result<Vec<Record>> {
        self.refuse_unless_allowed(actor, &events)?;
        self.write_all(actor, events, &[])
    }

    /// Appends `events` and queues `effects` of the last record in the same transaction
    /// ([`crate::outbox`]): the effects run once after the commit, never on replay. Returns the
    /// last record. The same role check as [`Ledger::append_all`].
    pub fn append_with_effects(
        &mut self,
        actor: &Actor,
        events: Vec<Event>,
        effects: Vec<crate::outbox::Effect>,
    ) -> Result<Record> {
        self.refuse_unless_allowed(actor, &events)?;
        let mut records = self.write_all(actor, events, &effects)?;
        records
            .pop()
            .ok_or_else(|| CoreError::internal("effects need a record"))
    }

    /// Refuses (and records as `access.denied`) events whose action the actor's role lacks.
    fn refuse_unless_allowed(&mut self, actor: &Actor, events: &[Event]) -> Result<()> {
        if let Some((action, why)) = events.iter().find_map(|e| actor.refusal(e)) {
            let denied = AccessDenied {
                action: action.as_str().into(),
                reason: why.clone(),
                patient_id: None,
            };
            self.write_all(actor, vec![denied.into()], &[])?;
            return Err(forbidden(&why, action, actor.role));
        }
        Ok(())
    }

    /// Build record → sign → insert → apply → queue the last record's `effects`, one durable
    /// transaction; then the anchor.
    pub(crate) fn write_all(
        &mut self,
        actor: &Actor,
        events: Vec<Event>,
        effects: &[crate::outbox::Effect],
    ) -> Result<Vec<Record>> {
        let now = self.clock.now();
        let device_time = format_instant(now);
        let business_date = self.clock.business_date().to_string();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut head = self.head;
        let mut written = Vec::with_capacity(events.len());
        for event in events {
            let body = RecordBody {
                id: uuid::Uuid::now_v7().to_string(),
                device_id: self.identity.device_id.clone(),
                seq: head.seq + 1,
                prev_hash: head.hash,
                kind: event.kind().to_owned(),
                kind_version: event.kind_version(),
                actor_user_id: actor.user_id.clone(),
                actor_role: actor.role.map(|r| r.as_str().to_owned()),
                session_id: actor.session_id.clone(),
                business_date: business_date.clone(),
                device_time: device_time.clone(),
                payload: event.payload()?,
            };
            let record = body.sign(self.identity.signing_key());
            insert_and_apply(&tx, &record, &event)?;
            head = ChainHead {
                seq: record.body.seq,
                hash: record.hash,
            };
            written.push(record);
        }
        if let Some(last) = written.last() {
            crate::outbox::queue(&tx, last, effects)?;
        }
        tx.commit()?;
        self.head = head;
        if let Some(new_head) = written.last() {
            self.write_anchor(new_head);
        }
        Ok(written)
    }

    fn write_anchor(&mut self, head: &Record) {
        let Some(path) = self.anchor_path.clone() else {
            return;
        };
        let b = &head.body;
        let slot = anchor_slot(&Anchor::of_head(&b.device_id, b.seq, &head.hash, &head.signature));
        // The record is already durable; a lagging anchor is tolerated, so a failure here is
        // logged rather than failing the acknowledged action.
        if let Err(e) = self.put_anchor(&path, &slot) {
            self.anchor_file = None;
            tracing::error!(error = %e, "could not write the chain-head anchor");
        }
    }

    fn put_anchor(&mut self, path: &Path, slot: &[u8]) -> Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        if self.anchor_file.is_none() {
            let laid_out = std::fs::metadata(path).is_ok_and(|m| m.len() == 2 * ANCHOR_SLOT as u64);
            if !laid_out {
                // A new file (or one of an earlier layout): both slots at once, atomically.
                let mut both = vec![b' '; 2 * ANCHOR_SLOT];
                both[..slot.len()].copy_from_slice(slot);
                both[ANCHOR_SLOT..ANCHOR_SLOT + slot.len()].copy_from_slice(slot);
                write_atomically(path, &both)?;
            }
            self.anchor_file = Some(std::fs::OpenOptions::new().write(true).open(path)?);
            if !laid_out {
                return Ok(());
            }
        }
        // Alternate, so the slot not being written holds the previous head.
        self.anchor_slot ^= 1;
        let file = self.anchor_file.as_mut().expect("opened above");
        file.seek(SeekFrom::Start(self.anchor_slot * ANCHOR_SLOT as u64))?;
        file.write_all(slot)?;
        Ok(())
    }
}

/// The error for an action the actor's role lacks (the same as the workstation's gate gives).
pub(crate) fn forbidden(why: &str, action: Action, role: Option<Role>) -> CoreError {
    let err = CoreError::new(ErrorCode::Forbidden, why.replace('_', " ")).with("action", action.as_str());
    match role {
        Some(role) => err.with("role", role.as_str()),
        None => err,
    }
}

/// An anchor as the bytes of one slot's start: its JSON and a newline.
fn anchor_slot(anchor: &Anchor) -> Vec<u8> {
    let mut slot = serde_json::to_vec(anchor).expect("anchor serialises");
    slot.push(b'\n');
    debug_assert!(slot.len() <= ANCHOR_SLOT, "an anchor fits its slot");
    slot
}

/// Inserts a record row and applies its event to the projections, inside `tx`.
pub(crate) fn insert_and_apply(tx: &Transaction<'_>, record: &Record, event: &Event) -> Result<()> {
    let local_index = insert_record(tx, record)?;
    event.apply(tx, &Applied { local_index, record })
}

/// Inserts a record row only (records pulled or received that are not applied, such as refused
/// ones, and replays that apply separately); returns its local index.
pub(crate) fn insert_record(tx: &Transaction<'_>, record: &Record) -> Result<i64> {
    let b = &record.body;
    // Statements on the write path are cached: parsing SQL anew for every record cost more
    // CPU than the rest of the append.
    tx.prepare_cached(
        "INSERT INTO records (id, device_id, seq, prev_hash, kind, kind_version, actor_user_id,
            actor_role, session_id, business_date, device_time, payload, hash, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        b.id,
        b.device_id,
        b.seq as i64,
        &b.prev_hash[..],
        b.kind,
        b.kind_version,
        b.actor_user_id,
        b.actor_role,
        b.session_id,
        b.business_date,
        b.device_time,
        b.payload,
        &record.hash[..],
        &record.signature[..],
    ])?;
    Ok(tx.last_insert_rowid())
}

/// The anchor is written after each commit, so it never legitimately leads the database. If a
/// validly signed anchor is ahead of (or disagrees with) the stored chain, records were cut off
/// or replaced: refuse, because the next append would re-sign the head and erase the evidence.
fn refuse_if_behind_anchor(dir: &Path, identity: &DeviceIdentity, head: ChainHead) -> Result<()> {
    let Some(Ok(anchors)) = Anchor::read(dir) else {
        return Ok(());
    };
    let Some(anchor) = Anchor::newest_valid(&anchors, &identity.device_id, &identity.verifying_key()) else {
        return Ok(()); // reported by verification
    };
    let behind = anchor.seq > head.seq;
    let differs = anchor.seq == head.seq && anchor.hash != hex::encode(head.hash);
    if !behind && !differs {
        return Ok(());
    }
    Err(CoreError::new(
        crate::ErrorCode::Storage,
        format!(
            "the record chain ends at seq {} but this device signed it up to seq {}: records were \
             removed or replaced outside the app. Refusing to write; verify the audit chain and \
             restore from a backup.",
            head.seq, anchor.seq
        ),
    )
    .with("reason", "chain_behind_anchor")
    .with("chain_seq", head.seq.to_string())
    .with("anchor_seq", anchor.seq.to_string()))
}

/// The last record of `device_id`'s chain held in this database.
pub(crate) fn load_head(conn: &Connection, device_id: &str) -> Result<ChainHead> {
    // Cached: the server reads the head of the pushing device for every record it admits.
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM records WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1")?
        .query_row([device_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(ChainHead {
            seq: 0,
            hash: GENESIS_PREV_HASH,
        }),
        Some((seq, hash)) => Ok(ChainHead {
            seq: seq as u64,
            hash: hash
                .try_into()
                .map_err(|_| CoreError::internal("stored record hash is not 32 bytes"))?,
        }),
    }
}

/// Reads records back in local order (verification, rebuilds, audit trail).
pub fn read_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    // A stored hash or signature of the wrong length is tampering, not something to pad.
    fn fixed<const N: usize>(row: &rusqlite::Row<'_>, col: &str) -> rusqlite::Result<[u8; N]> {
        let v: Vec<u8> = row.get(col)?;
        let len = v.len();
        v.try_into().map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Blob,
                format!("{col} has {len} bytes, expected {N}").into(),
            )
        })
    }
    Ok(Record {
        body: RecordBody {
            id: row.get("id")?,
            device_id: row.get("device_id")?,
            seq: row.get::<_, i64>("seq")? as u64,
            prev_hash: fixed(row, "prev_hash")?,
            kind: row.get("kind")?,
            kind_version: row.get("kind_version")?,
            actor_user_id: row.get("actor_user_id")?,
            actor_role: row.get("actor_role")?,
            session_id: row.get("session_id")?,
            business_date: row.get("business_date")?,
            device_time: row.get("device_time")?,
            payload: row.get("payload")?,
        },
        hash: fixed(row, "hash")?,
        signature: fixed(row, "signature")?,
    })
}
