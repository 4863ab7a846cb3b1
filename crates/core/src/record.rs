//! The record: the unit of every change, signed by the device and chained by hash.
//!
//! Canonical bytes (what the hash covers), in this order, every field length-prefixed so no
//! two different records share an encoding:
//!
//! ```text
//! DOMAIN_TAG
//! str(id) str(device_id) u64(seq) bytes(prev_hash) str(kind) u32(kind_version)
//! opt(actor_user_id) opt(actor_role) opt(session_id)
//! str(business_date) str(device_time) bytes(payload)
//! ```
//! `str`/`bytes` = u32 big-endian length + bytes; `opt` = 0x00, or 0x01 + `str`;
//! `u32`/`u64` big-endian. `payload` is RFC 8785 (JCS) canonical JSON.
//! `hash = SHA-256(canonical bytes)`; `signature = Ed25519(device key, hash)`.
//! The golden tests at the bottom pin these bytes: changing the format must be deliberate
//! (new tag, bump `kind_version`, upcast old records on read — never rewrite stored ones).

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const DOMAIN_TAG: &[u8] = b"dentpro/record/v1\0";
/// `prev_hash` of a device's first record.
pub const GENESIS_PREV_HASH: [u8; 32] = [0u8; 32];

/// Everything of a record but its hash and signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordBody {
    pub id: String,
    pub device_id: String,
    pub seq: u64,
    pub prev_hash: [u8; 32],
    pub kind: String,
    pub kind_version: u32,
    pub actor_user_id: Option<String>,
    pub actor_role: Option<String>,
    pub session_id: Option<String>,
    pub business_date: String,
    pub device_time: String,
    /// Canonical JSON bytes.
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub body: RecordBody,
    pub hash: [u8; 32],
    pub signature: [u8; 64],
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    let len = u32::try_from(b.len()).expect("record field over 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b);
}

fn put_opt(out: &mut Vec<u8>, v: &Option<String>) {
    match v {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
    }
}

impl RecordBody {
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.payload.len());
        out.extend_from_slice(DOMAIN_TAG);
        put_bytes(&mut out, self.id.as_bytes());
        put_bytes(&mut out, self.device_id.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_bytes(&mut out, &self.prev_hash);
        put_bytes(&mut out, self.kind.as_bytes());
        out.extend_from_slice(&self.kind_version.to_be_bytes());
        put_opt(&mut out, &self.actor_user_id);
        put_opt(&mut out, &self.actor_role);
        put_opt(&mut out, &self.session_id);
        put_bytes(&mut out, self.business_date.as_bytes());
        put_bytes(&mut out, self.device_time.as_bytes());
        put_bytes(&mut out, &self.payload);
        out
    }

    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }

    pub fn sign(self, key: &SigningKey) -> Record {
        let hash = self.hash();
        let signature = key.sign(&hash).to_bytes();
        Record {
            body: self,
            hash,
            signature,
        }
    }
}

/// Why a single record fails on its own (chain links are checked by the verifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFault {
    HashMismatch,
    BadSignature,
}

impl Record {
    /// Checks the stored hash against the body and the signature against `key`.
    pub fn check(&self, key: &VerifyingKey) -> std::result::Result<(), RecordFault> {
        if self.body.hash() != self.hash {
            return Err(RecordFault::HashMismatch);
        }
        key.verify(&self.hash, &Signature::from_bytes(&self.signature))
            .map_err(|_| RecordFault::BadSignature)
    }
}

/// A record in portable form (the sync wire, the chain-head anchor file): its fields, with
/// bytes as hex and the payload as its JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRecord {
    pub id: String,
    pub device_id: String,
    pub seq: u64,
    pub prev_hash: String,
    pub kind: String,
    pub kind_version: u32,
    pub actor_user_id: Option<String>,
    pub actor_role: Option<String>,
    pub session_id: Option<String>,
    pub business_date: String,
    pub device_time: String,
    pub payload: String,
    pub hash: String,
    pub signature: String,
}

impl From<&Record> for WireRecord {
    fn from(r: &Record) -> Self {
        let b = &r.body;
        WireRecord {
            id: b.id.clone(),
            device_id: b.device_id.clone(),
            seq: b.seq,
            prev_hash: hex::encode(b.prev_hash),
            kind: b.kind.clone(),
            kind_version: b.kind_version,
            actor_user_id: b.actor_user_id.clone(),
            actor_role: b.actor_role.clone(),
            session_id: b.session_id.clone(),
            business_date: b.business_date.clone(),
            device_time: b.device_time.clone(),
            // Payloads are canonical JSON, so UTF-8; a lossy conversion would break the hash,
            // which the reader checks.
            payload: String::from_utf8_lossy(&b.payload).into_owned(),
            hash: hex::encode(r.hash),
            signature: hex::encode(r.signature),
        }
    }
}

/// `value` as exactly `N` bytes of hex, or a message naming `field`.
pub fn hex_array<const N: usize>(field: &str, value: &str) -> std::result::Result<[u8; N], String> {
    hex::decode(value)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| format!("{field} is not {N} bytes of hex"))
}

impl TryFrom<&WireRecord> for Record {
    /// What is malformed (the hash and signature are checked by [`Record::check`]).
    type Error = String;
    fn try_from(w: &WireRecord) -> std::result::Result<Self, String> {
        // Seqs are stored as SQLite's i64.
        if i64::try_from(w.seq).is_err() {
            return Err(format!("seq {} is out of range", w.seq));
        }
        Ok(Record {
            body: RecordBody {
                id: w.id.clone(),
                device_id: w.device_id.clone(),
                seq: w.seq,
                prev_hash: hex_array("prev_hash", &w.prev_hash)?,
                kind: w.kind.clone(),
                kind_version: w.kind_version,
                actor_user_id: w.actor_user_id.clone(),
                actor_role: w.actor_role.clone(),
                session_id: w.session_id.clone(),
                business_date: w.business_date.clone(),
                device_time: w.device_time.clone(),
                payload: w.payload.clone().into_bytes(),
            },
            hash: hex_array("hash", &w.hash)?,
            signature: hex_array("signature", &w.signature)?,
        })
    }
}

/// RFC 8785 canonical JSON of a payload.
pub fn canonical_json<T: Serialize>(value: &T) -> crate::Result<Vec<u8>> {
    serde_jcs::to_vec(value).map_err(|e| crate::CoreError::internal(format!("canonical json: {e}")))
}

/// A device's id is derived from its public key: hex of the first 16 bytes of its SHA-256.
pub fn device_id_for(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn golden_key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn golden_body() -> RecordBody {
        let key = golden_key();
        RecordBody {
            id: "019a0000-0000-7000-8000-000000000001".into(),
            device_id: device_id_for(&key.verifying_key()),
            seq: 1,
            prev_hash: GENESIS_PREV_HASH,
            kind: "patient.registered".into(),
            kind_version: 1,
            actor_user_id: Some("019a0000-0000-7000-8000-0000000000aa".into()),
            actor_role: Some("receptionist".into()),
            session_id: None,
            business_date: "2026-11-21".into(),
            device_time: "2026-11-21T09:30:00.000Z".into(),
            payload: canonical_json(&serde_json::json!({"name_en": "Sara", "name_ar": "سارة", "b": 1}))
                .unwrap(),
        }
    }

    #[test]
    fn golden_device_id() {
        assert_eq!(device_id_for(&golden_key().verifying_key()), GOLDEN_DEVICE_ID);
    }

    #[test]
    fn golden_canonical_bytes() {
        assert_eq!(hex::encode(golden_body().canonical_bytes()), GOLDEN_BYTES);
    }

    #[test]
    // Cross-checked independently: Python hashlib.sha256 over GOLDEN_BYTES and the
    // `cryptography` package's Ed25519 over that hash give the same values.
    fn golden_hash_and_signature() {
        let record = golden_body().sign(&golden_key());
        assert_eq!(hex::encode(record.hash), GOLDEN_HASH);
        assert_eq!(hex::encode(record.signature), GOLDEN_SIGNATURE);
        record.check(&golden_key().verifying_key()).unwrap();
    }

    #[test]
    fn payload_is_jcs_canonical() {
        // Keys sorted, no whitespace, UTF-8 kept as is.
        assert_eq!(
            String::from_utf8(golden_body().payload).unwrap(),
            r#"{"b":1,"name_ar":"سارة","name_en":"Sara"}"#
        );
    }

    #[test]
    fn any_field_change_breaks_hash_or_signature() {
        let key = golden_key();
        let record = golden_body().sign(&key);
        let mut edited = record.clone();
        edited.body.seq = 2;
        assert_eq!(edited.check(&key.verifying_key()), Err(RecordFault::HashMismatch));
        let mut resigned = record.clone();
        resigned.body.kind = "patient.updated".into();
        resigned.hash = resigned.body.hash();
        assert_eq!(
            resigned.check(&key.verifying_key()),
            Err(RecordFault::BadSignature)
        );
    }

    const GOLDEN_DEVICE_ID: &str = "fe812c12f3ab4ce6ac5db69ac352f906";
    const GOLDEN_BYTES: &str = concat!(
        "64656e7470726f2f7265636f72642f763100", // "dentpro/record/v1\0"
        "00000024",
        "30313961303030302d303030302d373030302d383030302d303030303030303030303031",
        "00000020",
        "6665383132633132663361623463653661633564623639616333353266393036",
        "0000000000000001",
        "00000020",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "00000012",
        "70617469656e742e72656769737465726564",
        "00000001",
        "01",
        "00000024",
        "30313961303030302d303030302d373030302d383030302d303030303030303030306161",
        "01",
        "0000000c",
        "726563657074696f6e697374",
        "00",
        "0000000a",
        "323032362d31312d3231",
        "00000018",
        "323032362d31312d32315430393a33303a30302e3030305a",
        "0000002d",
        "7b2262223a312c226e616d655f6172223a22d8b3d8a7d8b1d8a9222c226e616d655f656e223a2253617261227d",
    );
    const GOLDEN_HASH: &str = "1c7eb1927efbcba19f41139e12ee5a12e6809d4c021aa9742964e53a2e98ae5e";
    const GOLDEN_SIGNATURE: &str = "ccd8b3e35b4ec398df5c40444c72536d1c9610bab77459ad73324a8d75796f4d76385f7b067808ef67d5ed5a2dddcfd13ff43dce2cbd675c1e65e6477cd46a0b";
}
