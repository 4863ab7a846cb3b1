//! The workstation's files as something that can fail: a data dir this user may not use, a full
//! disk, a damaged database, an account row changed outside the app. Each is reported in plain
//! words with a stable code (never "database not found" or "disk I/O error"), and none of them
//! may lose or spread anything:
//! - [`check_data_dir`] before anything is opened;
//! - [`sqlite_error`] / [`io_error`]: every storage error's code (`disk_full`,
//!   `data_dir_permission`, `database_corrupt`);
//! - [`check_outbox`]: the records about to be pushed are re-hashed and their signatures and
//!   links checked, so a damaged record never reaches the branch server;
//! - [`OpenMarker`] + [`full_check`]: after an unclean shutdown (and from the audit screen) the
//!   whole file is checked (`PRAGMA integrity_check`, then the chain verification);
//! - [`check_signed_account`]: at sign-in, the `users` row must be what the account's signed
//!   records say.

use crate::accounts::{
    CashierTerminalsSet, PasswordReset, UserCreated, UserDeactivated, UserReactivated, UserSummary,
};
use crate::devices::DeviceInitialized;
use crate::ids::{DeviceId, UserId};
use crate::ledger::read_record;
use crate::permissions::Role;
use crate::record::{Record, device_id_for};
use crate::registry;
use crate::{CoreError, ErrorCode, Result};
use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Written at open, removed at a clean close: found at open, the last run did not end cleanly.
pub const OPEN_MARKER: &str = "dentpro.open";

// ---- plain errors ----

fn permission_error(path: &Path, detail: impl std::fmt::Display) -> CoreError {
    CoreError::new(
        ErrorCode::DataDirPermission,
        format!(
            "no permission to use the data folder {}: this user may not read or write it ({detail}). \
             Nothing was changed. Ask your administrator to give this user access, or choose another folder.",
            path.display()
        ),
    )
    .with("path", path.display().to_string())
}

fn disk_full_error(detail: impl std::fmt::Display) -> CoreError {
    CoreError::new(
        ErrorCode::DiskFull,
        format!(
            "the disk is full: the last action was not saved ({detail}). Everything saved before \
             is intact; free some space and try again."
        ),
    )
}

fn corrupt_error(detail: impl std::fmt::Display) -> CoreError {
    CoreError::new(
        ErrorCode::DatabaseCorrupt,
        format!(
            "the database is damaged: {detail}. Nothing more will be synced from it; call your \
             administrator (restore from a backup, or set this workstation up again)."
        ),
    )
}

/// The code of a database error: a full disk, a permission, a damaged file, or `storage`.
pub fn sqlite_error(e: rusqlite::Error) -> CoreError {
    use rusqlite::ErrorCode as E;
    match e.sqlite_error_code() {
        Some(E::DiskFull) => disk_full_error(&e).with("reason", "disk_full"),
        Some(E::ReadOnly | E::PermissionDenied) => CoreError::new(
            ErrorCode::DataDirPermission,
            format!(
                "no permission to write the database ({e}). Nothing was changed. Ask your \
                 administrator to give this user access to the data folder."
            ),
        ),
        Some(E::DatabaseCorrupt | E::NotADatabase) => corrupt_error(&e).with("reason", "file_damaged"),
        _ => CoreError::new(ErrorCode::Storage, format!("database error: {e}")),
    }
}

/// The code of a file error: a full disk or a permission in plain words, else `storage`.
pub fn io_error(e: std::io::Error) -> CoreError {
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => disk_full_error(&e),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => CoreError::new(
            ErrorCode::DataDirPermission,
            format!(
                "no permission to use a file in the data folder ({e}). Nothing was changed. Ask \
                 your administrator to give this user access."
            ),
        ),
        _ => CoreError::new(ErrorCode::Storage, format!("file error: {e}")),
    }
}

/// What a caller of [`check_data_dir`] will do in the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirUse {
    Read,
    Write,
}

/// Checks, before anything is opened, that this user may use `dir`: a folder it cannot enter,
/// list or (for [`DirUse::Write`]) write is `data_dir_permission`, naming the folder. A folder
/// that does not exist yet is left to the caller to create.
pub fn check_data_dir(dir: &Path, using: DirUse) -> Result<()> {
    let denied = |e: std::io::Error| {
        if e.kind() == ErrorKind::PermissionDenied {
            permission_error(dir, e)
        } else {
            CoreError::from(e)
        }
    };
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(denied(e)),
        Ok(_) => {}
    }
    std::fs::read_dir(dir).map_err(denied)?;
    // Never open the database file itself here: closing any descriptor of it drops the POSIX
    // locks SQLite holds on it in this process (the owner's claim). Its own permission errors
    // come from SQLite (`sqlite_error`).
    if using == DirUse::Write {
        // The only portable way to know a folder is writable is to write in it.
        let probe = dir.join(format!(".dentpro-write-check-{}", std::process::id()));
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&probe)
            .map_err(denied)?;
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

// ---- records about to be pushed ----

/// Checks the records about to leave this workstation, `records` in seq order, continuing from
/// `prev` (the stored record just before them, if any): each must hash to its stored hash,
/// carry this device's signature, and link to the one before. A record damaged on disk is
/// `database_corrupt`, naming the record.
pub fn check_outbox(prev: Option<&Record>, records: &[Record], key: &VerifyingKey) -> Result<()> {
    let damaged = |record: &Record, what: &str| {
        let b = &record.body;
        corrupt_error(format!(
            "record {} (seq {} of this device, kind {}) in table records {what}",
            b.id, b.seq, b.kind
        ))
        .with("reason", "record_damaged")
        .with("table", "records")
        .with("record_id", b.id.clone())
        .with("seq", b.seq.to_string())
    };
    let sound = |record: &Record| {
        record
            .check(key)
            .map_err(|fault| damaged(record, &format!("fails its check ({fault:?})")))
    };
    if let Some(p) = prev {
        sound(p)?;
    }
    let mut link = prev.map(|p| (p.body.seq, p.hash));
    for record in records {
        sound(record)?;
        if let Some((seq, hash)) = link
            && (record.body.seq != seq + 1 || record.body.prev_hash != hash)
        {
            return Err(damaged(record, "does not follow the record before it"));
        }
        link = Some((record.body.seq, record.hash));
    }
    Ok(())
}

/// This device's records after `after_seq` (at most `limit`), checked by [`check_outbox`]. A
/// read that SQLite itself finds damaged is named by `PRAGMA integrity_check`.
pub fn checked_outbox(
    conn: &Connection,
    device_id: &str,
    key: &VerifyingKey,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<Record>> {
    let read = || -> Result<(Option<Record>, Vec<Record>)> {
        let prev = if after_seq == 0 {
            None
        } else {
            conn.prepare_cached("SELECT * FROM records WHERE device_id = ?1 AND seq = ?2")?
                .query_row(rusqlite::params![device_id, after_seq as i64], read_record)
                .optional()?
        };
        Ok((prev, crate::sync::outbox(conn, device_id, after_seq, limit)?))
    };
    let (prev, records) = read().map_err(|e| name_damage(conn, e))?;
    check_outbox(prev.as_ref(), &records, key)?;
    Ok(records)
}

/// A damaged file met while opening (the connection is gone with the failed open): the file
/// is read again, read-only, so that the error says which pages are damaged.
pub fn name_damage_in(data_dir: &Path, key: &crate::store::DbKey, e: CoreError) -> CoreError {
    if e.code != ErrorCode::DatabaseCorrupt {
        return e;
    }
    match crate::store::open_keyed_read_only(&data_dir.join(crate::store::DB_FILE), key) {
        Ok(conn) => name_damage(&conn, e),
        Err(_) => e,
    }
}

/// A storage error while reading: if the file is damaged, the error says where. An error that
/// already names its record or pages is returned as it is.
pub(crate) fn name_damage(conn: &Connection, e: CoreError) -> CoreError {
    if !matches!(e.code, ErrorCode::DatabaseCorrupt | ErrorCode::Storage)
        || e.details.contains_key("problem")
        || e.details.contains_key("record_id")
    {
        return e;
    }
    let problems = storage_problems(conn);
    if problems.is_empty() {
        return e;
    }
    corrupt_error(problems.join("; "))
        .with("reason", "file_damaged")
        .with("problem", problems.join("; "))
}

// ---- the whole file ----

/// The file's problems, empty when it is sound: first SQLCipher's check of every page's HMAC
/// (`PRAGMA cipher_integrity_check`: a page changed outside the app fails its authentication
/// and is named), then SQLite's own check of every page and index (`PRAGMA integrity_check`:
/// page, table, index). A plain or in-memory database has no HMACs to check.
pub fn storage_problems(conn: &Connection) -> Vec<String> {
    let lines = |pragma: &str| -> rusqlite::Result<Vec<String>> {
        let mut stmt = conn.prepare(pragma)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.filter(|l| !matches!(l.as_deref(), Ok("ok"))).collect()
    };
    let encrypted = conn
        .query_row("PRAGMA cipher_status", [], |r| r.get::<_, String>(0))
        .is_ok_and(|s| s == "1");
    let mut problems = Vec::new();
    if encrypted {
        match lines("PRAGMA cipher_integrity_check") {
            Ok(found) => problems.extend(found),
            Err(e) => problems.push(format!("SQLCipher cannot check the file: {e}")),
        }
    }
    // So damaged that the check itself cannot read it: that is the finding.
    match lines("PRAGMA integrity_check(20)") {
        Ok(found) => problems.extend(found),
        Err(e) => problems.push(format!("SQLite cannot read the file: {e}")),
    }
    problems
}

/// What the full check found: the file's problems (SQLite) and the chain's first bad record.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct IntegrityReport {
    pub ok: bool,
    /// `PRAGMA integrity_check`'s findings (page, table, index), empty when sound.
    pub storage_problems: Vec<String>,
    /// The chain verification's verdict, when the file could be read.
    pub verify: Option<crate::audit::VerifyReport>,
}

impl IntegrityReport {
    /// The problem as an error that names it, or `None` when all is well.
    pub fn as_error(&self) -> Option<CoreError> {
        if self.ok {
            return None;
        }
        if !self.storage_problems.is_empty() {
            let text = self.storage_problems.join("; ");
            return Some(
                corrupt_error(&text)
                    .with("reason", "file_damaged")
                    .with("problem", text),
            );
        }
        let v = self.verify.as_ref()?;
        let mut err = corrupt_error(
            v.first_bad
                .as_ref()
                .map(|b| b.problem.clone())
                .or_else(|| v.projection_problem.clone())
                .unwrap_or_else(|| "the record chain does not verify".into()),
        )
        .with("reason", "chain_damaged");
        if let Some(bad) = &v.first_bad {
            if let Some(id) = &bad.record_id {
                err = err.with("record_id", id.clone());
            }
            if let Some(seq) = bad.seq {
                err = err.with("seq", seq.to_string());
            }
        }
        Some(err)
    }
}

/// The full check: SQLite's page/index check, then (if the file reads) the chain, anchor and
/// projections verification.
pub fn full_check(
    conn: &Connection,
    data_dir: Option<&Path>,
    device_id: Option<&str>,
) -> Result<IntegrityReport> {
    let storage_problems = storage_problems(conn);
    let verify = if storage_problems.is_empty() {
        match crate::audit::verify(conn, data_dir, device_id) {
            Ok(v) => Some(v),
            Err(e) => {
                return Ok(IntegrityReport {
                    ok: false,
                    storage_problems: vec![e.message],
                    verify: None,
                });
            }
        }
    } else {
        None
    };
    Ok(IntegrityReport {
        ok: storage_problems.is_empty() && verify.as_ref().is_some_and(|v| v.ok),
        storage_problems,
        verify,
    })
}

/// The unclean-shutdown marker: [`OpenMarker::place`] at open says whether the last run left it
/// behind; dropping it (a clean close) removes it.
#[derive(Debug)]
pub struct OpenMarker {
    path: PathBuf,
}

impl OpenMarker {
    /// Places the marker; `true` if it was already there (the previous run did not close).
    pub fn place(data_dir: &Path) -> Result<(Self, bool)> {
        let path = data_dir.join(OPEN_MARKER);
        let unclean = path.exists();
        crate::device::write_atomically(&path, std::process::id().to_string().as_bytes())?;
        Ok((Self { path }, unclean))
    }
}

impl Drop for OpenMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

// ---- accounts: the table against the signed records ----

/// An account as its signed records make it (creation, resets, (de)activation, cashier
/// terminals), in the order the projections follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAccount {
    pub username: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
    pub cashier_terminals: Vec<DeviceId>,
}

const ACCOUNT_KINDS: &str =
    "'user.created', 'user.password_reset', 'user.deactivated', 'user.reactivated', 'cashier.terminals_set'";

/// Derives `user_id`'s account from its signed records, each re-checked (hash, and signature
/// against its device's genesis key). Only records the branch server accepted, and this
/// device's own pending ones, count: a record slipped into the table from an unknown device
/// has no place in the log. Uses the `records` kind index: one login reads the few account
/// records of the branch, never the whole chain.
pub fn signed_account(
    conn: &Connection,
    own_device_id: &str,
    user_id: &UserId,
) -> Result<Option<SignedAccount>> {
    let sql = format!(
        "SELECT r.* FROM records r LEFT JOIN record_log l ON l.local_index = r.local_index
         WHERE r.kind IN ({ACCOUNT_KINDS}) AND r.{} AND json_extract(r.payload, '$.user_id') = ?1
           AND (l.verdict = 'accepted' OR (l.verdict IS NULL AND r.device_id = ?2))
         ORDER BY l.log_index IS NULL, l.log_index, r.local_index",
        crate::kind_indexed!()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let records = stmt
        .query_map([user_id.as_str(), own_device_id], read_record)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut keys: HashMap<String, VerifyingKey> = HashMap::new();
    let mut account: Option<SignedAccount> = None;
    for record in &records {
        let b = &record.body;
        let key = match keys.get(&b.device_id) {
            Some(k) => *k,
            None => {
                let k = genesis_key(conn, &b.device_id)?;
                keys.insert(b.device_id.clone(), k);
                k
            }
        };
        if let Err(fault) = record.check(&key) {
            return Err(tampered(
                "records",
                format!(
                    "the account's record {} ({}) fails its check ({fault:?})",
                    b.id, b.kind
                ),
            )
            .with("record_id", b.id.clone()));
        }
        let event = registry::decode(&b.kind, b.kind_version, &b.payload)?;
        if let Some(c) = event.get::<UserCreated>() {
            account = Some(SignedAccount {
                username: c.username.clone(),
                role: c.role,
                active: true,
                password_hash: c.password_hash.clone(),
                cashier_terminals: Vec::new(),
            });
        } else if let Some(a) = account.as_mut() {
            if let Some(r) = event.get::<PasswordReset>() {
                a.password_hash = r.password_hash.clone();
            } else if event.get::<UserDeactivated>().is_some() {
                a.active = false;
            } else if event.get::<UserReactivated>().is_some() {
                a.active = true;
            } else if let Some(t) = event.get::<CashierTerminalsSet>() {
                a.cashier_terminals = t.device_ids.clone();
            }
        }
    }
    Ok(account)
}

fn genesis_key(conn: &Connection, device_id: &str) -> Result<VerifyingKey> {
    let genesis = conn
        .prepare_cached("SELECT * FROM records WHERE device_id = ?1 AND seq = 1")?
        .query_row([device_id], read_record)
        .optional()?;
    let bad = || tampered("records", format!("device {device_id} has no valid first record"));
    let Some(genesis) = genesis else {
        return Err(bad());
    };
    let b = &genesis.body;
    let Some(init) = registry::decode(&b.kind, b.kind_version, &b.payload)
        .ok()
        .and_then(|e| e.get::<DeviceInitialized>().cloned())
    else {
        return Err(bad());
    };
    let key = hex::decode(&init.public_key)
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .and_then(|k| VerifyingKey::from_bytes(&k).ok())
        .filter(|k| device_id_for(k) == device_id)
        .ok_or_else(bad)?;
    genesis.check(&key).map_err(|_| bad())?;
    Ok(key)
}

fn tampered(table: &str, detail: String) -> CoreError {
    CoreError::new(
        ErrorCode::AccountTampered,
        format!(
            "this account was changed outside DentPro ({detail}); sign-in refused. Ask your \
             administrator to verify the audit chain."
        ),
    )
    .with("table", table)
    .with("problem", detail)
}

/// Refuses `user` (its `users` row, with `password_hash` and `terminals` from the tables) when
/// it disagrees with the account's signed records: names the table and the field.
pub fn check_signed_account(
    conn: &Connection,
    own_device_id: &str,
    user: &UserSummary,
    password_hash: &str,
    terminals: &[DeviceId],
) -> Result<()> {
    let Some(signed) = signed_account(conn, own_device_id, &user.id)? else {
        return Err(tampered(
            "users",
            format!("user {} has no signed account record", user.username),
        )
        .with("field", "user_id"));
    };
    let mut sorted: Vec<String> = terminals.iter().map(ToString::to_string).collect();
    sorted.sort();
    let mut signed_terminals = signed.cashier_terminals.clone();
    signed_terminals.sort();
    let field = if signed.username != user.username {
        "username"
    } else if signed.role != user.role {
        "role"
    } else if signed.active != user.active {
        "active"
    } else if signed.password_hash != password_hash {
        "password_hash"
    } else if signed_terminals != sorted {
        "cashier_terminals"
    } else {
        return Ok(());
    };
    let table = if field == "cashier_terminals" {
        "cashier_terminals"
    } else {
        "users"
    };
    Err(tampered(
        table,
        format!(
            "the {field} of user {} in table {table} is not what its signed records say",
            user.username
        ),
    )
    .with("field", field))
}
