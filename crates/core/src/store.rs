//! The workstation's SQLite database: opening it durably, migrating it (refinery, from the
//! top-level `migrations/`), and binding it to the device that created it.

use crate::{CoreError, ErrorCode, Result};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

pub const DB_FILE: &str = "dentpro.sqlite3";

/// Pragmas of every connection. `synchronous=FULL` in WAL mode makes each commit durable
/// (survives power loss), which is what "an acknowledged action survives" requires.
fn configure(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Without the query planner stability guarantee, a statement whose bound value is compared
    // with a partial index's WHERE (records_patient's `json_extract(..) IS NOT NULL`) is marked
    // value-dependent and re-prepared on every new binding: that was a fifth of opening a file.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Room for every statement of the write path and the common reads (see ledger.rs).
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    embedded::migrations::runner()
        .run(conn)
        .map_err(|e| CoreError::new(ErrorCode::Storage, format!("migration failed: {e}")))?;
    Ok(())
}

/// Opens (creating if needed) the database in `data_dir` and checks it belongs to `device_id`.
/// A new database is bound to the device on creation.
pub fn open_bound(data_dir: &Path, device_id: &str) -> Result<Connection> {
    let mut conn = Connection::open(data_dir.join(DB_FILE))?;
    claim(&conn, data_dir)?;
    configure(&conn)?;
    migrate(&mut conn)?;
    match meta_get(&conn, "device_id")? {
        None => meta_set(&conn, "device_id", device_id)?,
        Some(bound) if bound == device_id => {}
        Some(bound) => {
            return Err(CoreError::new(
                ErrorCode::DeviceMismatch,
                format!(
                    "this database belongs to device {bound}; this machine's device key is \
                     {device_id}. Refusing to open it."
                ),
            )
            .with("bound_device", bound)
            .with("this_device", device_id));
        }
    }
    Ok(conn)
}

/// Opens (creating if needed) a durable, migrated database at `path` that belongs to no device:
/// the branch server's copy of every device's records.
pub fn open_unbound(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Makes this connection the database's only user until it closes. The workstation keeps its
/// chain head in memory, so a second process appending to the same database could only fail
/// (or, reading, see another process's half-done work): the second opener is refused at once,
/// with a clear error. In WAL mode, EXCLUSIVE locking also keeps the WAL index in process
/// memory and takes no file locks per transaction — about a sixth of opening a patient's file.
fn claim(conn: &Connection, data_dir: &Path) -> Result<()> {
    // The owner holds its lock until it closes: waiting for it would only delay the refusal.
    conn.busy_timeout(std::time::Duration::ZERO)?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    unless_held(conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"), data_dir)
}

/// `result`, with "the database is busy" (another process holds it) as `data_dir_in_use`.
fn unless_held<T>(result: rusqlite::Result<T>, data_dir: &Path) -> Result<T> {
    result.map_err(|e| {
        if e.sqlite_error_code() != Some(rusqlite::ErrorCode::DatabaseBusy) {
            return CoreError::from(e);
        }
        CoreError::new(
            ErrorCode::DataDirInUse,
            format!(
                "the workstation data in {} is open in another DentPro window or tool; close it first",
                data_dir.display()
            ),
        )
        .with("data_dir", data_dir.display().to_string())
    })
}

/// Opens an existing database read-only, without binding (verification from the CLI).
pub fn open_read_only(data_dir: &Path) -> Result<Connection> {
    // A folder this user may not read is said so, not reported as a missing database.
    crate::integrity::check_data_dir(data_dir, false)?;
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(CoreError::not_found("database").with("path", path.display().to_string()));
    }
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::ZERO)?;
    // Opening is lazy: read once, so a database the app holds is reported now, clearly.
    unless_held(
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)),
        data_dir,
    )?;
    Ok(conn)
}

/// A fresh, migrated in-memory database (projection rebuilds, tests).
pub fn open_in_memory() -> Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut conn)?;
    Ok(conn)
}

pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn meta_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
