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

/// Opens an existing database read-only, without binding (verification from the CLI).
pub fn open_read_only(data_dir: &Path) -> Result<Connection> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(CoreError::not_found("database").with("path", path.display().to_string()));
    }
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
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
