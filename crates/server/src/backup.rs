//! Backups of the branch server's database while it serves, and bringing one back.
//!
//! `backup` copies the database with `VACUUM INTO` on a connection of its own: one read
//! transaction, so the copy is a consistent snapshot even while pushes are being written (the
//! server never claims its database exclusively), and the serving process is not paused. The
//! copy is written beside its destination, checked (`PRAGMA integrity_check`, the log readable)
//! and renamed into place, so a backup file is either whole or absent.
//!
//! `restore` refuses while a server serves the data dir (`serve` holds an OS lock on
//! `serve.lock` for its lifetime), refuses to replace a database without `--force` (and then
//! keeps the replaced one beside it, never deletes it), checks the backup first, and leaves no
//! stale WAL of the replaced database behind to be replayed into the restored one.
//!
//! Keys are not in the backup: the data dir's `server.key`, TLS identity, `server.json` and the
//! database key stay where they are (kept once, offline, after `init`); a restore goes into a
//! data dir holding them, so workstations keep their pinned certificate and server key. The
//! backup is written through a connection keyed like the database, so `VACUUM INTO` writes it
//! encrypted with the same key.

use crate::store::{self, DB_FILE, DataDir};
use dentpro_core::devices::{DeviceEnrolled, DeviceInitialized};
use dentpro_core::kind::payload_of;
use dentpro_core::record::{Record, device_id_for};
use dentpro_core::sync::{self as core_sync, Admission, Sender};
use dentpro_core::{CoreError, ErrorCode, Result};
use dentpro_sync::merkle::MerkleLog;
use dentpro_sync::protocol::{LogExport, parse_key, record_from_wire};
use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, TransactionBehavior};
use std::fs::File;
use std::path::{Path, PathBuf};

const SERVE_LOCK: &str = "serve.lock";

/// Held by `serve` for its lifetime; dropped (or the process ending) releases it.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

fn lock_file(dir: &DataDir) -> Result<File> {
    // 0600 like every file of the data dir.
    Ok(dentpro_core::private::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path.join(SERVE_LOCK))?)
}

fn running_error(dir: &DataDir) -> CoreError {
    CoreError::new(
        ErrorCode::DataDirInUse,
        format!(
            "a branch server is running on {}; stop it first (`systemctl stop dentpro-server` or \
             its service manager)",
            dir.path.display()
        ),
    )
    .with("data_dir", dir.path.display().to_string())
}

/// Marks the data dir as served: a second `serve` or a `restore` is refused while it is held.
/// An OS lock (`flock`), so a server that died (even by kill -9) holds nothing.
pub fn hold_serve_lock(dir: &DataDir) -> Result<ServeLock> {
    let file = lock_file(dir)?;
    #[cfg(unix)]
    {
        use rustix::fs::{FlockOperation, flock};
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(running_error(dir)),
            Err(e) => return Err(std::io::Error::from(e).into()),
        }
    }
    Ok(ServeLock { _file: file })
}

/// What a backup or restore holds: the log's size and root, to compare with the checkpoints
/// workstations pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub path: PathBuf,
    pub log_size: u64,
    pub log_root: String,
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: log size {}, root {}",
            self.path.display(),
            self.log_size,
            self.log_root
        )
    }
}

/// Checks a database file is a sound branch-server database and reads its log.
fn inspect(dir: &DataDir, path: &Path) -> Result<Snapshot> {
    let unusable = |why: String| {
        CoreError::new(
            ErrorCode::DatabaseCorrupt,
            format!("{} is not a usable branch-server database: {why}", path.display()),
        )
        .with("path", path.display().to_string())
    };
    let conn = dir.open_file_read_only(path).map_err(|e| unusable(e.message))?;
    let problems = dentpro_core::integrity::storage_problems(&conn);
    if !problems.is_empty() {
        return Err(unusable(problems.join("; ")));
    }
    let is_server_db: bool = conn
        .query_row(
            "SELECT count(*) = 2 FROM sqlite_schema WHERE name IN ('server_schema_history', 'record_log')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| unusable(e.to_string()))?;
    if !is_server_db {
        return Err(unusable("it has no branch-server tables".into()));
    }
    let log: MerkleLog = dentpro_core::sync::log_leaves(&conn, None)
        .map_err(|e| unusable(e.message))?
        .into_iter()
        .collect();
    Ok(Snapshot {
        path: path.to_owned(),
        log_size: log.len(),
        log_root: hex::encode(log.root()),
    })
}

fn sync_dir(dir: &Path) {
    // The rename is durable once the directory is: best effort where directories cannot be opened.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(unix)]
fn private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn private(_: &Path) -> Result<()> {
    Ok(())
}

/// A consistent copy of the running server's database at `out` (which must not exist).
pub fn backup(dir: &DataDir, out: &Path) -> Result<Snapshot> {
    dir.config()?;
    if out.exists() {
        return Err(CoreError::new(
            ErrorCode::Conflict,
            format!(
                "{} already exists; choose a new file for the backup",
                out.display()
            ),
        ));
    }
    let partial = out.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    // Keyed like the database: `VACUUM INTO` then writes the copy encrypted with the same key.
    let conn = dir.open_file_read_only(&dir.path.join(DB_FILE))?;
    // A push holds the write lock briefly; the snapshot is a read transaction beside it.
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = partial
        .to_str()
        .ok_or_else(|| CoreError::invalid("out", "not_utf8"))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    drop(conn);
    private(&partial)?;
    let snapshot = inspect(dir, &partial).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })?;
    File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, out)?;
    sync_dir(&parent_of(out));
    Ok(Snapshot {
        path: out.to_owned(),
        ..snapshot
    })
}

/// What [`restore`] does when the data dir already holds a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse (the default: restoring replaces the branch's log).
    Refuse,
    /// Replace it, keeping it beside the restored one (`restore --force`).
    Replace,
}

/// Brings the backup at `from` back as `dir`'s database. The server must be stopped; an
/// existing database is only replaced with [`Existing::Replace`], and is then kept beside it
/// (`server.sqlite3.before-restore-<time>`, with its WAL).
pub fn restore(dir: &DataDir, from: &Path, existing: Existing) -> Result<Snapshot> {
    dir.config()?;
    // Held through the restore: `serve` cannot start on a half-restored dir.
    let _lock = hold_serve_lock(dir)?;
    let db = dir.path.join(DB_FILE);
    let wal = |p: &Path, suffix: &str| PathBuf::from(format!("{}{suffix}", p.display()));
    if db.exists() && existing == Existing::Refuse {
        return Err(CoreError::new(
            ErrorCode::Conflict,
            format!(
                "{} already holds a database; restoring would replace it. Run again with --force \
                 (the current database is kept beside it).",
                dir.path.display()
            ),
        ));
    }
    let checked = inspect(dir, from)?;
    let incoming = dir.path.join(format!("{DB_FILE}.restoring"));
    std::fs::copy(from, &incoming)?;
    private(&incoming)?;
    File::open(&incoming)?.sync_all()?;
    // The replaced database with its WAL and index, so the kept copy opens as it was. A WAL
    // left without its database is moved too: it must never be replayed into the restored one.
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let kept = dir.path.join(format!("{DB_FILE}.before-restore-{stamp}"));
    for suffix in ["-wal", "-shm", ""] {
        let from = wal(&db, suffix);
        if from.exists() {
            std::fs::rename(&from, wal(&kept, suffix))?;
        }
    }
    std::fs::rename(&incoming, &db)?;
    sync_dir(&dir.path);
    // Migrations of a backup made by an earlier version run here, not at the first request.
    let conn = dir.open_db()?;
    // A code used after the backup is unused again in it: none issued before may work now.
    let now = chrono::Utc::now().to_rfc3339();
    conn.execute(
        "UPDATE enrolment_codes SET expires_at = ?1 WHERE used_by IS NULL AND expires_at > ?1",
        [&now],
    )?;
    Ok(Snapshot { path: db, ..checked })
}

/// What `recover-log` took back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub entries: u64,
    pub log_size: u64,
    pub log_root: String,
}

fn recovery_refused(message: impl Into<String>) -> CoreError {
    CoreError::new(ErrorCode::SyncRejected, message).with("reason", "recovery_refused")
}

/// Takes back, from a workstation's copy of the log, the entries this (restored) server logged
/// after its backup. Nothing is taken on trust: the workstation's checkpoint must be signed by
/// this server's key; each lost entry is admitted again exactly as a push would be (the same
/// checks: hash, signature of its enrolled device, chain link, the rules) and must come out at
/// the same index with the same verdict; and the log must then give the root this server
/// signed. Anything else and nothing is written. The server must be stopped.
pub fn recover_log(dir: &DataDir, export: &LogExport) -> Result<Recovered> {
    let _lock = hold_serve_lock(dir)?;
    let key = dir.signing_key()?.verifying_key();
    let checkpoint = &export.checkpoint;
    if !checkpoint.verify(&key) {
        return Err(recovery_refused(
            "the workstation's checkpoint is not signed by this server's key",
        ));
    }
    let mut conn = dir.open_db()?;
    let held = core_sync::log_leaves(&conn, None)?.len() as u64;
    let target = checkpoint.tree_size;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut next = held;
    for entry in &export.entries {
        if entry.position.log_index < next {
            continue; // the server holds it; the root check below covers it
        }
        if entry.position.log_index >= target {
            break;
        }
        if entry.position.log_index != next {
            return Err(recovery_refused(format!(
                "the workstation's copy has no entry {next} (it starts at {})",
                entry.position.log_index
            )));
        }
        let record = record_from_wire(&entry.record).map_err(|e| recovery_refused(e.message))?;
        let device = match store::device(&tx, &record.body.device_id)? {
            Some(d) => d,
            None => enrolled_after_backup(&tx, &record, export, &key)?,
        };
        let public_key = parse_key(&device.public_key).map_err(|e| recovery_refused(e.message))?;
        let sender = Sender {
            device_id: &device.device_id,
            public_key: &public_key,
            clock_skew_seconds: entry.position.clock_skew_seconds,
        };
        let at = format!(
            "entry {next} (device {} seq {})",
            record.body.device_id, record.body.seq
        );
        match core_sync::admit(&tx, &sender, &record) {
            Ok(Admission::Logged(p)) if p == entry.position => {
                if p.verdict == core_sync::Verdict::Accepted
                    && let Some(revoked) = dentpro_core::devices::revocation_in(&record)
                {
                    store::revoke_by_record(&tx, &record, &revoked)?;
                }
            }
            Ok(other) => {
                return Err(recovery_refused(format!(
                    "{at}: this server decides it differently ({:?} instead of {:?})",
                    other.position(),
                    entry.position
                )));
            }
            Err(e) => return Err(recovery_refused(format!("{at}: {}", e.message))),
        }
        next += 1;
    }
    if next < target {
        return Err(recovery_refused(format!(
            "the workstation's copy ends at entry {next}, before its checkpoint's {target}"
        )));
    }
    let log: MerkleLog = core_sync::log_leaves(&tx, None)?.into_iter().collect();
    let root = log.root_at(target).map(hex::encode);
    if root.as_deref() != Some(checkpoint.root.as_str()) {
        return Err(recovery_refused(format!(
            "the log does not give the root this server signed at size {target}: not recovered"
        )));
    }
    tx.commit()?;
    Ok(Recovered {
        entries: next.saturating_sub(held),
        log_size: log.len(),
        log_root: hex::encode(log.root()),
    })
}

/// A device enrolled after the backup: its enrolment is in its own records (the genesis record
/// with its key, `device.enrolled` naming this server's key, kind and label), which travel in
/// the log like every record; its `devices` row is made again from them.
fn enrolled_after_backup(
    tx: &Connection,
    record: &Record,
    export: &LogExport,
    server_key: &VerifyingKey,
) -> Result<store::DeviceRow> {
    let device_id = &record.body.device_id;
    let unknown = || {
        recovery_refused(format!(
            "device {device_id} is not enrolled here and its enrolment is not in the copy"
        ))
    };
    let own: Vec<Record> = export
        .entries
        .iter()
        .filter(|e| &e.record.device_id == device_id)
        .filter_map(|e| record_from_wire(&e.record).ok())
        .collect();
    let genesis = own.iter().find(|r| r.body.seq == 1).ok_or_else(unknown)?;
    let Some(init) = payload_of::<DeviceInitialized>(genesis) else {
        return Err(unknown());
    };
    let public_key = parse_key(&init.public_key).map_err(|_| unknown())?;
    if device_id_for(&public_key) != *device_id || genesis.check(&public_key).is_err() {
        return Err(unknown());
    }
    let enrolled = own
        .iter()
        .filter(|r| r.check(&public_key).is_ok())
        .find_map(|r| {
            payload_of::<DeviceEnrolled>(r)
                .filter(|e| e.server_key == hex::encode(server_key.as_bytes()))
                .map(|e| (e, r.body.device_time.clone()))
        })
        .ok_or_else(unknown)?;
    let (enrolment, at) = enrolled;
    tx.execute(
        "INSERT INTO devices (device_id, public_key, kind, label, station, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            device_id,
            init.public_key,
            enrolment.device_kind.as_str(),
            enrolment.label,
            device_id[..4].to_uppercase(),
            at
        ],
    )?;
    tracing::warn!(device = %device_id, "device enrolled after the backup: enrolment taken from its records");
    store::device(tx, device_id)?.ok_or_else(unknown)
}
