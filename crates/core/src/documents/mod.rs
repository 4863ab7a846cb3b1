//! Documents (PDFs) the workstation printed: rendered inside the command that records them
//! (deterministically, so the SHA-256 in the record names exactly these bytes on every
//! workstation), written to the documents store by the outbox after the record commits.
//!
//! The store is content-addressed and encrypted at rest like the database: `documents/<sha256>`
//! under the data dir (0700 dir, 0600 files), each file `MAGIC ‖ nonce ‖ XChaCha20-Poly1305
//! (document)` under a key derived from the device seed (label `KEY_LABEL`), with the name as
//! associated data, so a file renamed to another document's name fails to open. Writing the
//! same document twice keeps the first file ([`Delivery::Duplicate`]): the store is the
//! outbox's idempotent receiver.

pub mod audit_report;
pub mod pdf;

use crate::device::DeviceIdentity;
use crate::{CoreError, ErrorCode, Result, private};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const DIR: &str = "documents";
const KEY_LABEL: &[u8] = b"dentpro/documents-key/v1";
const MAGIC: &[u8] = b"DPDOC\x01";
const NONCE_LEN: usize = 24;
/// No document the app renders comes near this; a bigger file is not one of ours.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// What the receiver did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Written now.
    New,
    /// Already held (an earlier delivery of the same effect, or the same document): unchanged.
    Duplicate,
}

/// The documents store of one workstation.
#[derive(Clone)]
pub struct DocumentStore {
    dir: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The hex SHA-256 of `bytes`: a document's id.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A document id from outside (IPC): 64 lower-case hex digits, nothing else.
pub fn check_id(id: &str) -> Result<&str> {
    if id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(id)
    } else {
        Err(CoreError::invalid("document_id", "not_a_sha256"))
    }
}

impl DocumentStore {
    pub fn new(data_dir: &Path, identity: &DeviceIdentity) -> Self {
        Self {
            dir: data_dir.join(DIR),
            key: identity.derive_key(KEY_LABEL),
        }
    }

    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Stores `bytes` as document `id` (which must be their SHA-256), durably; a document
    /// already held is left as it is.
    pub fn put(&self, id: &str, bytes: &[u8]) -> Result<Delivery> {
        check_id(id)?;
        if sha256_hex(bytes) != id {
            return Err(CoreError::internal(format!("document bytes do not hash to {id}")));
        }
        if self.get(id).is_ok() {
            return Ok(Delivery::Duplicate);
        }
        private::create_dir(&self.dir)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: bytes,
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| CoreError::internal("document encryption failed"))?;
        let mut file = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&nonce);
        file.extend_from_slice(&sealed);
        // Whole or absent: a crash mid-write leaves a temporary file, never a torn document.
        crate::device::write_atomically(&self.path_of(id), &file)?;
        sync_dir(&self.dir);
        Ok(Delivery::New)
    }

    /// Reads document `id` back, decrypted and checked against its name.
    pub fn get(&self, id: &str) -> Result<Vec<u8>> {
        check_id(id)?;
        let path = self.path_of(id);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CoreError::not_found("document").with("document_id", id));
            }
            Err(e) => return Err(e.into()),
        };
        if meta.len() > MAX_DOCUMENT_BYTES {
            return Err(damaged(id, "too large"));
        }
        let file = std::fs::read(&path)?;
        let body = file
            .strip_prefix(MAGIC)
            .ok_or_else(|| damaged(id, "not a DentPro document"))?;
        if body.len() < NONCE_LEN {
            return Err(damaged(id, "truncated"));
        }
        let (nonce, sealed) = body.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at NONCE_LEN");
        let bytes = self
            .cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| damaged(id, "does not decrypt with this device's key"))?;
        if sha256_hex(&bytes) != id {
            return Err(damaged(id, "content does not match its name"));
        }
        Ok(bytes)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }
}

fn damaged(id: &str, why: &str) -> CoreError {
    CoreError::new(ErrorCode::Storage, format!("document {id} is damaged: {why}"))
        .with("reason", "document_damaged")
        .with("document_id", id)
}

/// Makes a rename in `dir` durable (best effort: not every platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A document as the UI gets it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Document {
    pub document_id: String,
    pub media_type: String,
    pub file_name: String,
    /// The file's bytes, base64 (standard alphabet, padded).
    pub content_base64: String,
}

/// Reads document `id`, which a record of this database must have printed (an id from outside
/// names nothing else), from `store`.
pub fn read(conn: &rusqlite::Connection, store: &DocumentStore, id: &str) -> Result<Document> {
    use rusqlite::OptionalExtension;
    check_id(id)?;
    let payload: Option<Vec<u8>> = conn
        .query_row(
            concat!(
                "SELECT payload FROM records WHERE kind = 'audit.report_generated' AND ",
                crate::kind_indexed!(),
                " AND json_extract(CAST(payload AS TEXT), '$.document_sha256') = ?1 LIMIT 1"
            ),
            [id],
            |r| r.get(0),
        )
        .optional()?;
    let payload = payload.ok_or_else(|| CoreError::not_found("document").with("document_id", id))?;
    let facts: audit_report::AuditReportGenerated = serde_json::from_slice(&payload)?;
    let bytes = store.get(id)?;
    use base64::Engine as _;
    Ok(Document {
        document_id: id.to_owned(),
        media_type: audit_report::MEDIA_TYPE.into(),
        file_name: audit_report::file_name(&facts),
        content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}
