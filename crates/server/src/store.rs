//! The branch server's data dir: its SQLite database (every device's records and the core's
//! projections, through the core's migrations, plus the server's own tables), its signing key
//! and its TLS identity.
//!
//! The database is encrypted at rest (SQLCipher) with a random key kept in a key file: by
//! default `db.key` in the data dir, or a path the service manager gives (`--db-key-file`, e.g.
//! a systemd credential), so that a copy of the data dir alone does not open. The data dir is
//! 0700 and every file in it 0600.

use chrono::{DateTime, Utc};
use dentpro_core::devices::{DeviceKind, DeviceRevoked};
use dentpro_core::record::Record;
use dentpro_core::store::{self as core_store};
use dentpro_core::{CoreError, ErrorCode, Result};
use dentpro_sync::protocol::DeviceInfo;
use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

mod embedded {
    refinery::embed_migrations!("migrations");
}

pub const DB_FILE: &str = "server.sqlite3";
const KEY_FILE: &str = "server.key";
const CONFIG_FILE: &str = "server.json";
const CERT_FILE: &str = "tls-cert.pem";
const TLS_KEY_FILE: &str = "tls-key.pem";
/// The database key's default place (see [`DataDir::with_db_key_file`]).
pub const DB_KEY_FILE: &str = "db.key";

/// `server.json`: what `init` decided.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerConfig {
    pub branch_name: String,
    pub created_at: DateTime<Utc>,
    pub certificate_fingerprint: String,
    pub subject_alt_names: Vec<String>,
}

pub struct DataDir {
    pub path: PathBuf,
    db_key_file: PathBuf,
}

impl DataDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Self {
            db_key_file: path.join(DB_KEY_FILE),
            path,
        }
    }

    /// Keeps the database key in `file` instead of the data dir (`None`: the default place).
    pub fn with_db_key_file(mut self, file: Option<PathBuf>) -> Self {
        if let Some(file) = file {
            self.db_key_file = file;
        }
        self
    }

    pub fn db_key_file(&self) -> &Path {
        &self.db_key_file
    }

    /// The database key: read from its file (refused if others can read it), or made (0600) for
    /// a new database and for a plain one of an earlier version, which is then encrypted.
    fn db_key(&self) -> Result<core_store::DbKey> {
        let file = &self.db_key_file;
        if file.exists() {
            let text = dentpro_core::private::read_secret(file)?;
            return core_store::DbKey::from_hex(&text).ok_or_else(|| {
                CoreError::new(
                    ErrorCode::KeyStorage,
                    format!("{} is not a 32-byte hex key", file.display()),
                )
            });
        }
        let db = self.path.join(DB_FILE);
        if core_store::is_encrypted(&db)? {
            return Err(CoreError::new(
                ErrorCode::KeyStorage,
                format!(
                    "the server database {} is encrypted and its key file {} is missing; give \
                     its path with --db-key-file (DENTPRO_SERVER_DB_KEY_FILE)",
                    db.display(),
                    file.display()
                ),
            )
            .with("path", file.display().to_string()));
        }
        let key = core_store::DbKey::random();
        write_private(file, key.to_hex().as_bytes())?;
        tracing::info!(key_file = %file.display(), "created the database key");
        Ok(key)
    }

    pub fn is_initialised(&self) -> bool {
        self.path.join(CONFIG_FILE).exists()
    }

    /// Creates the server's key, TLS identity and database (refuses an initialised dir).
    pub fn init(&self, branch_name: &str, subject_alt_names: &[String]) -> Result<ServerConfig> {
        if self.is_initialised() {
            return Err(CoreError::new(
                ErrorCode::AlreadySetUp,
                format!("{} already holds a branch server", self.path.display()),
            ));
        }
        let name = branch_name.trim();
        if name.is_empty() {
            return Err(CoreError::invalid("branch_name", "required"));
        }
        dentpro_core::private::create_dir(&self.path)?;
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
        let key = SigningKey::from_bytes(&seed);
        write_private(&self.path.join(KEY_FILE), hex::encode(key.to_bytes()).as_bytes())?;
        let identity = dentpro_sync::tls::create_server_identity(subject_alt_names)
            .map_err(|e| CoreError::internal(format!("certificate: {e}")))?;
        write_private(&self.path.join(CERT_FILE), identity.cert_pem.as_bytes())?;
        write_private(&self.path.join(TLS_KEY_FILE), identity.key_pem.as_bytes())?;
        let config = ServerConfig {
            branch_name: name.to_owned(),
            created_at: Utc::now(),
            certificate_fingerprint: identity.fingerprint,
            subject_alt_names: subject_alt_names.to_vec(),
        };
        self.open_db()?;
        write_private(&self.path.join(CONFIG_FILE), &serde_json::to_vec_pretty(&config)?)?;
        Ok(config)
    }

    pub fn config(&self) -> Result<ServerConfig> {
        let bytes = std::fs::read(self.path.join(CONFIG_FILE)).map_err(|e| {
            CoreError::new(
                ErrorCode::NotSetUp,
                format!(
                    "no branch server in {} ({e}); run `dentpro-server init` first",
                    self.path.display()
                ),
            )
        })?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    pub fn signing_key(&self) -> Result<SigningKey> {
        let text = dentpro_core::private::read_secret(&self.path.join(KEY_FILE))?;
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CoreError::new(ErrorCode::KeyStorage, "server.key is not a 32-byte hex key"))?;
        Ok(SigningKey::from_bytes(&bytes))
    }

    pub fn tls_pem(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        Ok((
            std::fs::read(self.path.join(CERT_FILE)).map_err(io)?,
            dentpro_core::private::read_secret(&self.path.join(TLS_KEY_FILE))?.into_bytes(),
        ))
    }

    /// Reads a database file of this server (its own, or a backup of it) with this data dir's
    /// key, read-only.
    pub fn open_file_read_only(&self, path: &Path) -> Result<Connection> {
        core_store::open_keyed_read_only(path, &self.db_key()?)
    }

    pub fn open_db(&self) -> Result<Connection> {
        // A data dir of an earlier version: the dir was 0755, these files 0644 (the keys were
        // 0600 already, and a key file others can read is refused, not quietly narrowed).
        dentpro_core::private::restrict(&self.path, 0o700);
        for file in [CONFIG_FILE, CERT_FILE] {
            dentpro_core::private::restrict(&self.path.join(file), 0o600);
        }
        let mut conn = core_store::open_unbound(&self.path.join(DB_FILE), &self.db_key()?)?;
        embedded::migrations::runner()
            .set_migration_table_name("server_schema_history")
            .run(&mut conn)
            .map_err(|e| CoreError::new(ErrorCode::Storage, format!("server migration failed: {e}")))?;
        Ok(conn)
    }
}

fn io(e: std::io::Error) -> CoreError {
    CoreError::new(ErrorCode::Storage, e.to_string())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    dentpro_core::private::write_new(path, bytes)
        .map_err(|e| CoreError::new(e.code, format!("{}: {}", path.display(), e.message)))
}

pub fn code_hash(code: &str) -> String {
    let normalised: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

/// A new one-time enrolment code for a device of `kind`: 16 characters of Crockford base32
/// (80 bits), shown once; only its hash is kept.
pub fn issue_code(
    conn: &Connection,
    kind: DeviceKind,
    label: &str,
    valid: chrono::Duration,
) -> Result<String> {
    use rand::Rng;
    let label = dentpro_core::text::bounded("label", label, dentpro_core::text::LABEL_MAX)?;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let raw: String = (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    let code = raw
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("-");
    let now = Utc::now();
    conn.execute(
        "INSERT INTO enrolment_codes (code_hash, kind, label, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![code_hash(&code), kind.as_str(), label, now.to_rfc3339(), (now + valid).to_rfc3339()],
    )?;
    Ok(code)
}

/// An enrolled device as the server keeps it.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub device_id: String,
    pub public_key: String,
    pub kind: DeviceKind,
    pub label: String,
    pub revoked_at: Option<String>,
}

pub fn device(conn: &Connection, device_id: &str) -> Result<Option<DeviceRow>> {
    conn.prepare_cached(
        "SELECT device_id, public_key, kind, label, revoked_at FROM devices WHERE device_id = ?1",
    )?
    .query_row([device_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get(1)?,
            r.get::<_, String>(2)?,
            r.get(3)?,
            r.get(4)?,
        ))
    })
    .optional()?
    .map(|(device_id, public_key, kind, label, revoked_at)| {
        Ok::<_, CoreError>(DeviceRow {
            device_id,
            public_key,
            kind: kind.parse()?,
            label,
            revoked_at,
        })
    })
    .transpose()
}

pub fn devices(conn: &Connection) -> Result<Vec<DeviceInfo>> {
    let log_size: i64 = conn.query_row("SELECT count(*) FROM record_log", [], |r| r.get(0))?;
    let mut stmt = conn.prepare(
        "SELECT d.device_id, d.kind, d.label, d.enrolled_at, d.revoked_at, d.last_seen_at, d.pulled_to,
                (SELECT max(seq) FROM records r WHERE r.device_id = d.device_id)
         FROM devices d ORDER BY d.enrolled_at",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, Option<i64>>(7)?,
        ))
    })?;
    let parse = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| CoreError::internal(format!("stored time {s}: {e}")))
    };
    let mut out = Vec::new();
    for row in rows {
        let (device_id, kind, label, enrolled_at, revoked_at, last_seen_at, pulled_to, seq) = row?;
        out.push(DeviceInfo {
            device_id,
            kind: kind.parse()?,
            label,
            enrolled_at: parse(&enrolled_at)?,
            revoked_at: revoked_at.as_deref().map(parse).transpose()?,
            last_seen_at: last_seen_at.as_deref().map(parse).transpose()?,
            logged_seq: seq.unwrap_or(0) as u64,
            pull_lag: (log_size - pulled_to).max(0) as u64,
        });
    }
    Ok(out)
}

/// Revokes a device (`dentpro-server revoke`): its later pushes and token requests are refused;
/// its records stay.
pub fn revoke(conn: &Connection, device_id: &str) -> Result<()> {
    if !mark_revoked(
        conn,
        &Source::Console,
        device_id,
        "device revoked by an admin at the server",
    )? {
        return Err(CoreError::not_found("enrolled, unrevoked device").with("device_id", device_id));
    }
    Ok(())
}

/// Revokes the device a `device.revoked` record names, once the log accepted the record (an
/// admin revoked it from a workstation); called in the push's transaction. A device already
/// revoked here (at the server's console) stays as it is.
pub fn revoke_by_record(conn: &Connection, record: &Record, revoked: &DeviceRevoked) -> Result<()> {
    let b = &record.body;
    let by = match b.actor_user_id.as_deref() {
        Some(id) => dentpro_core::accounts::user_by_id(conn, &id.into())
            .map(|u| u.username)
            .unwrap_or_else(|_| id.to_owned()),
        None => "-".into(),
    };
    let message = format!(
        "device revoked by {by} from device {} (record seq {}): {}",
        b.device_id, b.seq, revoked.reason
    );
    if mark_revoked(conn, &Source::Device(&b.device_id), &revoked.device_id, &message)? {
        tracing::warn!(device = %revoked.device_id, by = %by, from = %b.device_id, reason = %revoked.reason, "device revoked");
    } else {
        tracing::info!(device = %revoked.device_id, "a revocation of a device already revoked here");
    }
    Ok(())
}

/// Marks an enrolled device revoked and records the security event; `false` if there was no
/// such unrevoked device.
fn mark_revoked(conn: &Connection, source: &Source, device_id: &str, message: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
        params![device_id, Utc::now().to_rfc3339()],
    )?;
    if n == 0 {
        return Ok(false);
    }
    security_event(
        conn,
        source,
        Some(device_id),
        "device_revoked",
        "revoked",
        message,
        1,
    )?;
    Ok(true)
}

/// Longest stored device id (ours are 32 hex digits; a refused request's is a sample).
pub const MAX_DEVICE_ID_CHARS: usize = 96;
const MAX_REASON_CHARS: usize = 64;
const MAX_MESSAGE_CHARS: usize = 400;
/// Aggregated events of unauthenticated sources kept; the oldest go first. With the caps above
/// a row is under 1 KiB, so these stay under a few MiB whatever is sent.
const MAX_UNAUTHENTICATED_EVENTS: i64 = 2000;
/// Events of one (source, kind, reason) are counted in one row per hour.
const BUCKET_SECONDS: i64 = 3600;

/// Where a security event came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A peer that did not authenticate (its address; port left out).
    Peer(std::net::IpAddr),
    /// An authenticated, enrolled device.
    Device(&'a str),
    /// The admin at the server's console.
    Console,
}

impl Source<'_> {
    fn key(&self) -> String {
        match self {
            Source::Peer(ip) => format!("ip:{ip}"),
            Source::Device(id) => format!("device:{}", printable(id, MAX_DEVICE_ID_CHARS)),
            Source::Console => "console".into(),
        }
    }
}

/// `text` safe to store and to print on a terminal: control characters (C0, C1, and the
/// bidirectional overrides that reorder a line) escaped as `\n`, `\u{1b}`…, and cut after
/// about `max` bytes (marked with `…`). Text already escaped stays as it is.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max) + 8);
    for c in text.chars() {
        if out.len() >= max {
            out.push('…');
            break;
        }
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Records `count` security events: one row per (source, kind, reason, hour) holding the
/// count, first and last time and the first event's device id and message as a sample, every
/// field capped and escaped ([`printable`]). Rows of unauthenticated peers beyond
/// `MAX_UNAUTHENTICATED_EVENTS` are dropped oldest first: whatever a peer sends, the table
/// stays bounded.
pub fn security_event(
    conn: &Connection,
    source: &Source,
    device_id: Option<&str>,
    kind: &str,
    reason: &str,
    message: &str,
    count: u64,
) -> Result<()> {
    let now = Utc::now();
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let total: i64 = conn
        .prepare_cached(
            "INSERT INTO security_events (source, kind, reason, bucket, count, at, last_at, device_id, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)
             ON CONFLICT (source, kind, reason, bucket) DO UPDATE
             SET count = count + excluded.count, last_at = excluded.last_at
             RETURNING count",
        )?
        .query_row(
            params![
                source.key(),
                printable(kind, MAX_REASON_CHARS),
                printable(reason, MAX_REASON_CHARS),
                now.timestamp() / BUCKET_SECONDS,
                count,
                now.to_rfc3339(),
                device_id.map(|d| printable(d, MAX_DEVICE_ID_CHARS)),
                printable(message, MAX_MESSAGE_CHARS),
            ],
            |r| r.get(0),
        )?;
    // A new row (not an update of one): keep the unauthenticated ones bounded.
    if total == count && matches!(source, Source::Peer(_)) {
        conn.prepare_cached(
            "DELETE FROM security_events WHERE id IN (
                 SELECT id FROM security_events WHERE source LIKE 'ip:%'
                 ORDER BY last_at DESC LIMIT -1 OFFSET ?1)",
        )?
        .execute([MAX_UNAUTHENTICATED_EVENTS])?;
    }
    Ok(())
}

/// An aggregated security event as stored (fields capped and escaped when stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// First time.
    pub at: String,
    pub last_at: String,
    pub count: i64,
    pub source: String,
    /// The (first) device the requests named.
    pub device_id: Option<String>,
    pub kind: String,
    pub reason: String,
    pub message: String,
}

pub fn security_events(conn: &Connection) -> Result<Vec<SecurityEvent>> {
    let mut stmt = conn.prepare(
        "SELECT at, last_at, count, source, device_id, kind, reason, message FROM security_events ORDER BY at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SecurityEvent {
            at: r.get(0)?,
            last_at: r.get(1)?,
            count: r.get(2)?,
            source: r.get(3)?,
            device_id: r.get(4)?,
            kind: r.get(5)?,
            reason: r.get(6)?,
            message: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn quarantined(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_and_caps() {
        assert_eq!(
            printable("a\nb\u{1b}[2J\u{9b}\u{202e}c\t", 100),
            r"a\nb\u{1b}[2J\u{9b}\u{202e}c\t"
        );
        assert_eq!(printable("ok ÄÖ عربي", 100), "ok ÄÖ عربي");
        // Escaping twice changes nothing.
        let once = printable("x\u{7}y", 100);
        assert_eq!(printable(&once, 100), once);
        let long = printable(&"\u{1b}".repeat(1 << 20), 96);
        assert!(long.len() <= 96 + 10 && long.ends_with('…'), "{}", long.len());
    }
}
