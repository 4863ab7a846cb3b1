//! The wire: JSON bodies of the branch server's HTTP API, shared by the server and the
//! workstation's client so that neither side writes them twice.
//!
//! | method + path | body → answer |
//! |---|---|
//! | `GET /health` | → [`Health`] |
//! | `POST /v1/enrol` | [`EnrolRequest`] → [`EnrolResponse`] (no token: the one-time code is the credential) |
//! | `POST /v1/token` | DPoP proof only → [`TokenResponse`] |
//! | `GET /v1/state` | → [`DeviceState`] |
//! | `POST /v1/push` | [`PushRequest`] → [`PushReceipt`] |
//! | `GET /v1/pull?from=&limit=&known_size=` | → [`PullResponse`] |
//! | `GET /v1/proof/inclusion?index=&size=` | → [`InclusionProof`] |
//! | `GET /v1/devices` | → `Vec<`[`DeviceInfo`]`>` |
//!
//! Every `/v1` call but enrolment carries `Authorization: DPoP <token>` and a `DPoP` proof
//! header (see [`crate::auth`]). Errors are [`ApiError`] with an HTTP status.
//!
//! ## Signed forms (what an independent verifier checks)
//!
//! Signatures are Ed25519 by the server key (`server_key` of [`EnrolResponse`], hex), written
//! as 128 hex digits. A signature covers the bytes exactly as they are sent: nothing is
//! re-formatted before verifying.
//!
//! - **Checkpoint** ([`SignedCheckpoint`]): over `"dentpro/checkpoint/v1\0"` ‖ `tree_size` as
//!   u64 big-endian ‖ `root` (the JSON string's bytes: 64 lowercase hex digits) ‖ `0x00` ‖
//!   `issued_at` (the JSON string's bytes). The server writes `issued_at` as RFC 3339 in UTC,
//!   whole seconds, with `+00:00` (e.g. `2026-12-01T22:00:00+00:00`). Earlier servers sent a
//!   `Z` form while signing `+00:00`; a workstation's pinned checkpoint (meta
//!   `sync.checkpoint`) is only ever used for its size and root, which it checked when it
//!   pinned it, so pins made before stay valid and are replaced at the next pull.
//! - **Log leaf** (`root` is the RFC 6962 root over them): see
//!   [`dentpro_core::sync::entry_leaf`]. Each [`WireEntry`]'s `position.leaf_version` says
//!   which form covers it: absent or `1` (record hash, verdict, reason: entries logged before
//!   the clock-skew flag was covered, kept so that checkpoints pinned then still verify) or `2`
//!   (also `clock_skew_seconds`: every entry logged since).
//! - **Push receipt** ([`PushReceipt`]): over `"dentpro/receipt/v1\0"` ‖ the compact JSON
//!   array `[device_id, entries, checkpoint]` as serde_json writes it (fields in declaration
//!   order, no spaces; `leaf_version` only when not 1). Unlike the checkpoint this is a
//!   re-serialisation, so a verifier in another language must write the same JSON: moving it
//!   to signed-as-sent bytes needs a receipt v2.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use dentpro_core::devices::DeviceKind;
use dentpro_core::record::Record;
use dentpro_core::sync::{LogPosition, LoggedRecord};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

pub const ENROL_TAG: &[u8] = b"dentpro/enrol/v1\0";
pub const CHECKPOINT_TAG: &[u8] = b"dentpro/checkpoint/v1\0";
/// Records per push and per pulled page, at most (pages are bounded by bytes too).
pub const BATCH: u32 = 500;
/// The largest request body the server accepts, in bytes: its body limit is set from this, and
/// it tells clients in [`DeviceState::max_push_bytes`]. The largest record a user can cause is
/// far below it (every free-text field is bounded in the core), so a push of one record always
/// fits.
pub const MAX_PUSH_BYTES: usize = 2 * 1024 * 1024;
/// What a server that does not say its limit accepts (axum's default body limit).
pub const LEGACY_MAX_PUSH_BYTES: u64 = 2 * 1024 * 1024;
/// A pulled page's entries, in bytes of JSON, at most (always at least one entry).
pub const MAX_PULL_BYTES: usize = 2 * 1024 * 1024;
/// Entries a pull may ask for at once (`limit`).
pub const MAX_PULL_LIMIT: u32 = 5 * BATCH;
/// The largest answer a client reads: a pull page of one largest entry or of
/// [`MAX_PULL_BYTES`], a devices list, with room to spare.
pub const MAX_ANSWER_BYTES: u64 = 4 * MAX_PULL_BYTES as u64;
/// Wire integers (seqs, log indexes) are stored as SQLite's signed 64-bit integers.
pub const MAX_WIRE_INT: u64 = i64::MAX as u64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub log_size: u64,
}

/// An error answer: a stable `code` and `reason` (for programs and translation) and an English
/// message (for logs and people).
#[derive(Debug, Clone, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({code}/{reason})")]
pub struct ApiError {
    pub code: String,
    pub reason: String,
    pub message: String,
}

pub use dentpro_core::record::WireRecord;

pub fn malformed(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "bad_request".into(),
        reason: "malformed".into(),
        message: message.into(),
    }
}

fn hex_array<const N: usize>(field: &str, value: &str) -> Result<[u8; N], ApiError> {
    dentpro_core::record::hex_array(field, value).map_err(malformed)
}

/// A record from the wire, or a `malformed` error naming the bad field.
pub fn record_from_wire(w: &WireRecord) -> Result<Record, ApiError> {
    Record::try_from(w).map_err(malformed)
}

/// A log entry on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEntry {
    pub position: LogPosition,
    pub record: WireRecord,
}

impl From<&LoggedRecord> for WireEntry {
    fn from(e: &LoggedRecord) -> Self {
        WireEntry {
            position: e.position.clone(),
            record: (&e.record).into(),
        }
    }
}

impl TryFrom<&WireEntry> for LoggedRecord {
    type Error = ApiError;
    fn try_from(w: &WireEntry) -> Result<Self, ApiError> {
        if w.position.log_index > MAX_WIRE_INT {
            return Err(malformed("log_index is out of range"));
        }
        Ok(LoggedRecord {
            position: w.position.clone(),
            record: record_from_wire(&w.record)?,
        })
    }
}

// ---- enrolment ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub code: String,
    pub device_id: String,
    /// Hex of the device's Ed25519 public key; `device_id` must derive from it.
    pub public_key: String,
    /// Proof the device holds the key: Ed25519 over [`enrol_message`].
    pub signature: String,
    pub label: String,
    pub app_version: String,
    /// The branch this workstation already holds, if it was set up before enrolling.
    pub branch_id: Option<String>,
}

pub fn enrol_message(code: &str, device_id: &str) -> Vec<u8> {
    [ENROL_TAG, code.as_bytes(), b"\0", device_id.as_bytes()].concat()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub branch_name: String,
    pub device_kind: DeviceKind,
    pub label: String,
    /// Hex of the server's Ed25519 key (checkpoints, access tokens): pinned from now on.
    pub server_key: String,
    pub checkpoint: SignedCheckpoint,
    pub server_time: DateTime<Utc>,
}

// ---- tokens and state ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub server_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceState {
    /// The last seq of this device the log holds: push after it.
    pub logged_seq: u64,
    pub log_size: u64,
    pub server_time: DateTime<Utc>,
    /// The branch's bound on clock skew, in seconds.
    pub max_clock_skew_seconds: i64,
    /// The largest push body the server accepts, in bytes ([`MAX_PUSH_BYTES`]; an older server
    /// that does not say accepts [`LEGACY_MAX_PUSH_BYTES`]).
    #[serde(default = "legacy_max_push_bytes")]
    pub max_push_bytes: u64,
}

fn legacy_max_push_bytes() -> u64 {
    LEGACY_MAX_PUSH_BYTES
}

/// Counts the bytes a value serialises to, without keeping them.
#[derive(Default)]
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `value`'s JSON, as `serde_json` sends it.
pub fn json_len(value: &impl Serialize) -> usize {
    let mut count = ByteCount::default();
    serde_json::to_writer(&mut count, value).expect("wire types serialise");
    count.0
}

/// How many of `items` (of JSON lengths `len(item)`) fit in a JSON array within `budget` bytes
/// of body, with `envelope` bytes for the rest of it: always at least one, so that a page or a
/// batch always moves on.
pub fn fitting<T>(items: &[T], envelope: usize, budget: usize, len: impl Fn(&T) -> usize) -> usize {
    let mut total = envelope;
    let mut n = 0;
    for item in items {
        // One comma between array items.
        total = total.saturating_add(len(item) + usize::from(n > 0));
        if n > 0 && total > budget {
            break;
        }
        n += 1;
    }
    n
}

// ---- push and pull ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushRequest {
    pub records: Vec<WireRecord>,
    /// The device's clock when it sent this (for the skew check; never for ordering).
    pub device_time: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptEntry {
    pub seq: u64,
    pub position: LogPosition,
}

/// The server's signed answer to a push: where each record landed and the log it is now in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PushReceipt {
    pub device_id: String,
    pub entries: Vec<ReceiptEntry>,
    pub logged_seq: u64,
    /// How far the device's clock is from the server's, when beyond the bound.
    pub clock_skew_seconds: Option<i64>,
    pub checkpoint: SignedCheckpoint,
    /// Ed25519 by the server key over [`receipt_message`].
    pub signature: String,
}

pub fn receipt_message(device_id: &str, entries: &[ReceiptEntry], checkpoint: &SignedCheckpoint) -> Vec<u8> {
    let body = serde_json::to_vec(&(device_id, entries, checkpoint)).expect("receipt serialises");
    [b"dentpro/receipt/v1\0".as_slice(), &body].concat()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PullResponse {
    pub entries: Vec<WireEntry>,
    pub checkpoint: SignedCheckpoint,
    /// RFC 6962 consistency proof (hex hashes) from the `known_size` asked for to the
    /// checkpoint's size.
    pub consistency: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InclusionProof {
    pub index: u64,
    pub leaf: String,
    pub proof: Vec<String>,
    pub checkpoint: SignedCheckpoint,
}

// ---- checkpoints ----

/// The server's signed statement of its log: size and RFC 6962 root.
///
/// `issued_at` travels as the exact string that was signed (see the module docs for the
/// canonical signed form): a verifier never re-formats a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    pub tree_size: u64,
    pub root: String,
    /// RFC 3339 in UTC, whole seconds, written `+00:00` (e.g. `2026-12-01T22:00:00+00:00`):
    /// what chrono's `to_rfc3339()` gives, so workstations of the previous version, which
    /// re-format the time they parse, still verify it.
    pub issued_at: String,
    pub signature: String,
}

/// Longest `issued_at` a checkpoint may carry (an RFC 3339 time is 25 to 35 bytes).
const MAX_ISSUED_AT: usize = 64;

impl SignedCheckpoint {
    /// The signed bytes: see the module docs.
    pub fn message(tree_size: u64, root: &str, issued_at: &str) -> Vec<u8> {
        let mut m = CHECKPOINT_TAG.to_vec();
        m.extend_from_slice(&tree_size.to_be_bytes());
        m.extend_from_slice(root.as_bytes());
        m.push(0);
        m.extend_from_slice(issued_at.as_bytes());
        m
    }

    pub fn sign(key: &SigningKey, tree_size: u64, root: [u8; 32], issued_at: DateTime<Utc>) -> Self {
        let root = hex::encode(root);
        let issued_at = issued_at
            .with_nanosecond(0)
            .unwrap_or(issued_at)
            .to_rfc3339_opts(SecondsFormat::Secs, false);
        let signature = key.sign(&Self::message(tree_size, &root, &issued_at));
        SignedCheckpoint {
            tree_size,
            root,
            issued_at,
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Checks the signature over the fields exactly as they were received.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        if self.issued_at.len() > MAX_ISSUED_AT || self.issued_at().is_none() {
            return false;
        }
        let Ok(sig) = hex_array::<64>("signature", &self.signature) else {
            return false;
        };
        key.verify(
            &Self::message(self.tree_size, &self.root, &self.issued_at),
            &Signature::from_bytes(&sig),
        )
        .is_ok()
    }

    /// When the server signed it (`None` when `issued_at` is not an RFC 3339 time).
    pub fn issued_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.issued_at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    pub fn root_bytes(&self) -> Result<[u8; 32], ApiError> {
        hex_array("root", &self.root)
    }
}

pub fn sign_hex(key: &SigningKey, message: &[u8]) -> String {
    hex::encode(key.sign(message).to_bytes())
}

pub fn verify_hex(key: &VerifyingKey, message: &[u8], signature: &str) -> bool {
    hex_array::<64>("signature", signature)
        .map(|s| key.verify(message, &Signature::from_bytes(&s)).is_ok())
        .unwrap_or(false)
}

pub fn parse_key(hex_key: &str) -> Result<VerifyingKey, ApiError> {
    VerifyingKey::from_bytes(&hex_array("key", hex_key)?).map_err(|_| malformed("not an Ed25519 public key"))
}

pub fn hashes_to_hex(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

pub fn hashes_from_hex(hashes: &[String]) -> Result<Vec<[u8; 32]>, ApiError> {
    hashes.iter().map(|h| hex_array("proof hash", h)).collect()
}

// ---- devices ----

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: String,
    pub kind: DeviceKind,
    pub label: String,
    pub enrolled_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub logged_seq: u64,
    /// Log entries the device has not pulled yet.
    pub pull_lag: u64,
}

/// A workstation's copy of the branch log (`dentpro log export`): what a restored server takes
/// back the entries logged after its backup from (`dentpro-server recover-log`). The checkpoint
/// is the one the workstation pinned, signed by the server: the recovered log must give its root.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogExport {
    pub checkpoint: SignedCheckpoint,
    pub entries: Vec<WireEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_takes_the_longest_prefix_within_the_budget_and_never_nothing() {
        let lens = [10usize, 20, 30];
        // envelope 5 + 10 + (20 + comma) = 36.
        assert_eq!(fitting(&lens, 5, 36, |l| *l), 2);
        assert_eq!(fitting(&lens, 5, 35, |l| *l), 1);
        assert_eq!(fitting(&lens, 5, 1000, |l| *l), 3);
        // One item over the budget still goes alone: the caller decides what to do with it.
        assert_eq!(fitting(&lens, 5, 0, |l| *l), 1);
        assert_eq!(fitting::<usize>(&[], 5, 0, |l| *l), 0);
        assert_eq!(json_len(&vec!["a"; 3]), r#"["a","a","a"]"#.len());
    }
}
