//! The workstation's identity: an Ed25519 key created on first start.
//!
//! The key lives in the OS keyring (Secret Service on Linux) through the `keyring` crate. Where
//! no keyring service answers (a headless box, CI), the documented fallback is a key file with
//! 0600 permissions in the data dir. The choice is explicit: it is made once, written to
//! `device.json` in the data dir, logged, and shown on the About screen; a data dir that was set
//! up with the keyring never silently falls back to a file later.
//!
//! The database key is derived from this one secret (HKDF-SHA256 under its own label), so it
//! is kept exactly where and as well as the device key, with the same fallback, and there is
//! no second secret to lose or to leave behind; the derivation is one-way, so the database key
//! does not reveal the signing key.

use crate::record::device_id_for;
use crate::store::DbKey;
use crate::{CoreError, ErrorCode, Result, private};
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const KEYRING_SERVICE: &str = "dentpro";
const DEVICE_FILE: &str = "device.json";
const KEY_FILE: &str = "device.key";
/// HKDF `info` of the workstation database key: a key for this purpose only.
const DB_KEY_LABEL: &[u8] = b"dentpro/workstation-database-key/v1";

/// How the user asked for the key to be kept (`--key-store` / `DENTPRO_KEY_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyStorePreference {
    /// Keyring if a keyring service answers, else the key file (logged as a fallback).
    #[default]
    Auto,
    Keyring,
    File,
}

impl std::str::FromStr for KeyStorePreference {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Self::Auto),
            "keyring" => Ok(Self::Keyring),
            "file" => Ok(Self::File),
            other => Err(CoreError::invalid("key_store", "unknown_key_store").with("value", other)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum KeyStorage {
    Keyring,
    File,
}

/// `device.json`: where this data dir's key is, decided once at first start.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeviceFile {
    device_id: String,
    storage: KeyStorage,
    /// The keyring entry's user name (unique per data dir), when `storage` is keyring.
    keyring_user: Option<String>,
    /// Why the file fallback was chosen, when it was.
    fallback_reason: Option<String>,
}

pub struct DeviceIdentity {
    key: SigningKey,
    pub device_id: String,
    pub storage: KeyStorage,
    pub fallback_reason: Option<String>,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.device_id)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

impl DeviceIdentity {
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The key this device's database is encrypted with: HKDF-SHA256 of the device key's seed.
    pub fn database_key(&self) -> DbKey {
        DbKey::from_bytes(self.derive_key(DB_KEY_LABEL))
    }

    /// A 256-bit key for one purpose (`label`): HKDF-SHA256 of the device key's seed, like the
    /// database key; it reveals nothing of the signing key or of keys under other labels.
    pub fn derive_key(&self, label: &[u8]) -> [u8; 32] {
        let mut okm = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(None, self.key.as_bytes())
            .expand(label, &mut okm)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        okm
    }

    /// An identity from a known key, not persisted anywhere (tests, benchmarks).
    pub fn ephemeral(key: SigningKey) -> Self {
        let device_id = device_id_for(&key.verifying_key());
        Self {
            key,
            device_id,
            storage: KeyStorage::File,
            fallback_reason: None,
        }
    }

    /// Loads this data dir's device key, creating it on first start.
    pub fn load_or_create(data_dir: &Path, pref: KeyStorePreference) -> Result<Self> {
        private::create_dir(data_dir)?;
        if data_dir.join(DEVICE_FILE).exists() {
            return Self::load_existing(data_dir);
        }
        Self::create(data_dir, pref)
    }

    /// Loads the device key of an existing data dir (tools that must not create one).
    pub fn load_existing(data_dir: &Path) -> Result<Self> {
        // A folder this user may not read is said so, not reported as a missing identity.
        crate::integrity::check_data_dir(data_dir, crate::integrity::DirUse::Read)?;
        let device_path = data_dir.join(DEVICE_FILE);
        let bytes = fs::read(&device_path).map_err(|e| {
            CoreError::not_found("device identity")
                .with("path", device_path.display().to_string())
                .with("error", e.to_string())
        })?;
        private::restrict(&device_path, 0o600);
        Self::load(data_dir, serde_json::from_slice(&bytes)?)
    }

    fn load(data_dir: &Path, file: DeviceFile) -> Result<Self> {
        let seed = match file.storage {
            KeyStorage::Keyring => {
                let user = file
                    .keyring_user
                    .as_deref()
                    .ok_or_else(|| key_error("device.json names the keyring but no keyring entry"))?;
                keyring_get(user)?
            }
            KeyStorage::File => read_key_file(&data_dir.join(KEY_FILE))?,
        };
        let key = SigningKey::from_bytes(&seed);
        let device_id = device_id_for(&key.verifying_key());
        if device_id != file.device_id {
            return Err(CoreError::new(
                ErrorCode::DeviceMismatch,
                format!(
                    "the device key found ({device_id}) is not this data dir's device ({})",
                    file.device_id
                ),
            ));
        }
        if file.storage == KeyStorage::File {
            tracing::warn!(
                reason = file.fallback_reason.as_deref().unwrap_or("chosen"),
                "device key is kept in a key file (0600), not the OS keyring"
            );
        }
        Ok(Self {
            key,
            device_id,
            storage: file.storage,
            fallback_reason: file.fallback_reason,
        })
    }

    fn create(data_dir: &Path, pref: KeyStorePreference) -> Result<Self> {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        let key = SigningKey::from_bytes(&seed);
        let device_id = device_id_for(&key.verifying_key());
        let keyring_user = format!("device-key:{device_id}");
        let (storage, fallback_reason) = match pref {
            KeyStorePreference::File => (KeyStorage::File, Some("file storage was requested".into())),
            KeyStorePreference::Keyring => {
                keyring_set(&keyring_user, key.as_bytes())?;
                (KeyStorage::Keyring, None)
            }
            KeyStorePreference::Auto => match keyring_set(&keyring_user, key.as_bytes()) {
                Ok(()) => (KeyStorage::Keyring, None),
                Err(e) => {
                    let reason = format!("no usable OS keyring: {}", e.message);
                    tracing::warn!(%reason, "falling back to a 0600 key file in the data dir");
                    (KeyStorage::File, Some(reason))
                }
            },
        };
        if storage == KeyStorage::File {
            write_key_file(&data_dir.join(KEY_FILE), key.as_bytes())?;
        }
        let file = DeviceFile {
            device_id: device_id.clone(),
            storage,
            keyring_user: (storage == KeyStorage::Keyring).then_some(keyring_user),
            fallback_reason: fallback_reason.clone(),
        };
        write_atomically(&data_dir.join(DEVICE_FILE), &serde_json::to_vec_pretty(&file)?)?;
        tracing::info!(%device_id, ?storage, "created device identity");
        Ok(Self {
            key,
            device_id,
            storage,
            fallback_reason,
        })
    }
}

fn key_error(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::KeyStorage, message)
}

fn keyring_entry(user: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(KEYRING_SERVICE, user).map_err(|e| key_error(format!("keyring: {e}")))
}

fn keyring_set(user: &str, seed: &[u8; 32]) -> Result<()> {
    let entry = keyring_entry(user)?;
    entry
        .set_secret(seed)
        .map_err(|e| key_error(format!("keyring: {e}")))?;
    // Read it back: some stores accept a write they cannot serve later (locked collections).
    let back = entry
        .get_secret()
        .map_err(|e| key_error(format!("keyring: {e}")))?;
    if back.as_slice() != seed {
        return Err(key_error("keyring returned a different secret than was stored"));
    }
    Ok(())
}

fn keyring_get(user: &str) -> Result<[u8; 32]> {
    let secret = keyring_entry(user)?
        .get_secret()
        .map_err(|e| key_error(format!("cannot read the device key from the OS keyring: {e}")))?;
    secret
        .try_into()
        .map_err(|_| key_error("the keyring holds a malformed device key"))
}

fn read_key_file(path: &Path) -> Result<[u8; 32]> {
    let text = private::read_secret(path)?;
    let bytes = hex::decode(text.trim()).map_err(|_| key_error("malformed device key file"))?;
    bytes
        .try_into()
        .map_err(|_| key_error("malformed device key file"))
}

fn write_key_file(path: &Path, seed: &[u8; 32]) -> Result<()> {
    private::write_new(path, hex::encode(seed).as_bytes())
}

/// Write-then-rename, so a crash leaves the old file or the new one, never half of one. The
/// file is 0600 (a leftover temporary file of any mode is replaced, not reused).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    if tmp.exists() {
        fs::remove_file(&tmp)?;
    }
    let mut f = private::options().write(true).create_new(true).open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_fallback_is_0600_and_reloads_the_same_identity() {
        let dir = tempfile::tempdir().unwrap();
        let a = DeviceIdentity::load_or_create(dir.path(), KeyStorePreference::File).unwrap();
        assert_eq!(a.storage, KeyStorage::File);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let b = DeviceIdentity::load_or_create(dir.path(), KeyStorePreference::Auto).unwrap();
        assert_eq!(a.device_id, b.device_id);
        assert_eq!(b.storage, KeyStorage::File);
    }

    #[test]
    fn a_swapped_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        DeviceIdentity::load_or_create(dir.path(), KeyStorePreference::File).unwrap();
        fs::remove_file(dir.path().join(KEY_FILE)).unwrap();
        write_key_file(&dir.path().join(KEY_FILE), &[9u8; 32]).unwrap();
        let err = DeviceIdentity::load_or_create(dir.path(), KeyStorePreference::File).unwrap_err();
        assert_eq!(err.code, ErrorCode::DeviceMismatch);
    }
}
