//! The workstation's SQLite database: opening it encrypted and durably, migrating it (refinery,
//! from the top-level `migrations/`), and binding it to the device that created it.
//!
//! Every database file is encrypted at rest with SQLCipher (AES-256, an HMAC per page) under a
//! raw 32-byte key: the workstation's is derived from its device key
//! ([`crate::device::DeviceIdentity::database_key`]), the branch server's is a key file. A
//! plain database of an earlier version is encrypted in place the first time it is opened.

use crate::{CoreError, ErrorCode, Result, private};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

pub const DB_FILE: &str = "dentpro.sqlite3";

/// The first bytes of every plain (unencrypted) SQLite file; an encrypted one starts with salt.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// A database's 256-bit SQLCipher key. Given raw (`x'..'`), so opening costs no key derivation.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey([u8; 32]);

impl DbKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        Self(bytes)
    }

    /// The key from its 64 hex digits (a key file's text).
    pub fn from_hex(text: &str) -> Option<Self> {
        hex::decode(text.trim()).ok()?.try_into().ok().map(Self)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The key as SQLCipher's raw-key literal (hex digits only: safe to put in SQL text).
    fn sql(&self) -> String {
        format!("\"x'{}'\"", self.to_hex())
    }
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(..)")
    }
}

/// Opens the database file at `path` (created 0600 if missing) with `key`, after encrypting a
/// plain database of an earlier version in place. `PRAGMA key` is the connection's first
/// statement, as SQLCipher requires; the caller applies the other pragmas after it.
pub fn open_keyed(path: &Path, key: &DbKey) -> Result<Connection> {
    if !path.exists() {
        // Created here with 0600, SQLite then gives its WAL and SHM files the same mode.
        private::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
    }
    for file in [path.to_path_buf(), sidecar(path, "-wal"), sidecar(path, "-shm")] {
        private::restrict(&file, 0o600);
    }
    if is_plain(path)? {
        export_in_place(path, key, None)?;
    } else {
        let format = page_format(path, key)?;
        if format != PageFormat::CURRENT {
            export_in_place(path, key, Some(format))?;
        }
    }
    let conn = Connection::open(path)?;
    apply_key(&conn, key, PageFormat::CURRENT)?;
    Ok(conn)
}

/// How a database's pages are laid out and authenticated. SQLCipher keeps no record of it in
/// the file: a connection must be told before its first read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PageFormat {
    /// SQLCipher 4's page cipher (AES-256-CBC, a random IV per page) with an HMAC-SHA256 tag
    /// per page and 2 KiB pages. Every database is written in it.
    Dentpro,
    /// SQLCipher 4's defaults, HMAC-SHA512 and 4 KiB pages: databases written before,
    /// re-encrypted at their first writable open.
    Sqlcipher4Defaults,
}

impl PageFormat {
    /// Why not SQLCipher's defaults: a record's durable commit writes and authenticates every
    /// page it touches (5 for a file opened, 16 for a registration), and that is the write
    /// path's main cost. SHA-256 runs on the CPU's SHA instructions (3.2 µs a 4 KiB page here,
    /// SHA-512 8.6 µs in OpenSSL), and 2 KiB pages halve the bytes each touched page costs to
    /// encrypt, authenticate and sync. Both tags are far beyond forging.
    const CURRENT: Self = Self::Dentpro;

    fn hmac(self) -> &'static str {
        match self {
            Self::Dentpro => "HMAC_SHA256",
            Self::Sqlcipher4Defaults => "HMAC_SHA512",
        }
    }

    fn page_size(self) -> u32 {
        match self {
            Self::Dentpro => 2048,
            Self::Sqlcipher4Defaults => 4096,
        }
    }

    /// The pragmas that select this format on `schema`, before its first read.
    fn pragmas(self, schema: &str) -> String {
        format!(
            "PRAGMA {schema}.cipher_hmac_algorithm = {}; PRAGMA {schema}.cipher_page_size = {};",
            self.hmac(),
            self.page_size()
        )
    }
}

/// `PRAGMA key` and the page format on a new connection, before its first read. Keys go through
/// DentPro's page cipher provider (`dentpro-page-cipher`: the same algorithms and bytes as
/// SQLCipher's OpenSSL provider, without its set-up on every page).
fn apply_key(conn: &Connection, key: &DbKey, format: PageFormat) -> Result<()> {
    page_cipher()?;
    conn.execute_batch(&format!("PRAGMA key = {}; {}", key.sql(), format.pragmas("main")))?;
    Ok(())
}

/// Registers the page cipher provider and makes the current page format SQLCipher's default,
/// once per process, so that databases SQLCipher creates without being told (an `ATTACH`ed
/// export, a `VACUUM INTO` backup) are written in it too.
fn page_cipher() -> Result<()> {
    static READY: std::sync::OnceLock<std::result::Result<(), String>> = std::sync::OnceLock::new();
    READY
        .get_or_init(|| {
            dentpro_page_cipher::install()?;
            Connection::open_in_memory()
                .and_then(|c| {
                    let current = PageFormat::CURRENT;
                    c.execute_batch(&format!(
                        "PRAGMA cipher_default_hmac_algorithm = {}; PRAGMA cipher_default_page_size = {};",
                        current.hmac(),
                        current.page_size()
                    ))
                })
                .map_err(|e| format!("setting the page format: {e}"))
        })
        .clone()
        .map_err(CoreError::internal)
}

/// The page format of the encrypted database at `path`, found by reading its first page with
/// `key` (read-only, on a connection of its own). A database that neither format opens (another
/// key, damage, or held by another process) is reported as current: the caller's own first read
/// then says what is wrong, as for any database.
fn page_format(path: &Path, key: &DbKey) -> Result<PageFormat> {
    let reads = |format: PageFormat| -> Result<bool> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        apply_key(&conn, key, format)?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        let first_read = without_cipher_log(&conn, || {
            conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
        })?;
        Ok(first_read.map_err(|e| e.sqlite_error_code()) != Err(Some(rusqlite::ErrorCode::NotADatabase)))
    };
    if !is_encrypted(path)? || reads(PageFormat::CURRENT)? {
        return Ok(PageFormat::CURRENT);
    }
    Ok(if reads(PageFormat::Sqlcipher4Defaults)? {
        PageFormat::Sqlcipher4Defaults
    } else {
        PageFormat::CURRENT
    })
}

/// Runs `probe` with SQLCipher's own log (stderr) silenced: a page format tried on a file of
/// the other one fails by design, and SQLCipher would print that failure as an `ERROR` line that
/// reads like damage. Its level is process-wide and is put back afterwards; a real failure
/// is still reported, by the caller's own read of the file.
fn without_cipher_log<T>(conn: &Connection, probe: impl FnOnce() -> T) -> Result<T> {
    let level: String = conn.query_row("PRAGMA cipher_log_level", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA cipher_log_level = NONE")?;
    let out = probe();
    conn.execute_batch(&format!("PRAGMA cipher_log_level = {level}"))?;
    Ok(out)
}

/// Opens an existing database file read-only with `key` (a plain one of an earlier version is
/// read as it is): backups and their checks, which must never write or encrypt what they read.
pub fn open_keyed_read_only(path: &Path, key: &DbKey) -> Result<Connection> {
    if !path.exists() {
        return Err(CoreError::not_found("database").with("path", path.display().to_string()));
    }
    let plain = is_plain(path)?;
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    if !plain {
        apply_key(&conn, key, page_format(path, key)?)?;
    }
    Ok(conn)
}

/// Whether `path` holds an encrypted database (not missing, empty or plain).
pub fn is_encrypted(path: &Path) -> Result<bool> {
    Ok(std::fs::metadata(path).is_ok_and(|m| m.len() > 0) && !is_plain(path)?)
}

/// Whether `path` is a plain SQLite database (an empty new file is not).
fn is_plain(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path)?;
    let mut read = 0;
    while read < header.len() {
        match f.read(&mut header[read..])? {
            0 => return Ok(false),
            n => read += n,
        }
    }
    Ok(&header == PLAIN_HEADER)
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Rewrites the database of an earlier version at `path` (plain, or encrypted in the page format
/// `earlier`) in place, atomically, encrypted with `key` in the current page format: the old database is first made one self-contained file
/// (its WAL checkpointed into it and the WAL removed, so no old WAL is left to be applied to
/// the new file), exported into a new file beside it (`sqlcipher_export`), which is synced and
/// renamed over the old one. A crash at any point leaves the old database or the new one; an
/// export left half-done is discarded at the next try.
fn export_in_place(path: &Path, key: &DbKey, earlier: Option<PageFormat>) -> Result<()> {
    let tmp = sidecar(path, ".encrypting");
    for stale in [tmp.clone(), sidecar(&tmp, "-journal")] {
        if stale.exists() {
            std::fs::remove_file(&stale)?;
        }
    }
    {
        let old = Connection::open(path)?;
        if let Some(format) = earlier {
            apply_key(&old, key, format)?;
        }
        old.busy_timeout(std::time::Duration::ZERO)?;
        old.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        old.pragma_update(None, "journal_mode", "DELETE")?;
        private::write_new(&tmp, &[])?;
        page_cipher()?;
        old.execute(
            &format!("ATTACH DATABASE ?1 AS encrypted KEY {}", key.sql()),
            [tmp.to_string_lossy()],
        )?;
        old.execute_batch(&PageFormat::CURRENT.pragmas("encrypted"))?;
        old.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        let version: i64 = old.pragma_query_value(None, "user_version", |r| r.get(0))?;
        old.execute_batch(&format!(
            "PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"
        ))?;
    }
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        // The rename itself is durable once the directory is synced.
        std::fs::File::open(dir)?.sync_all()?;
    }
    for old in [sidecar(path, "-wal"), sidecar(path, "-shm")] {
        if old.exists() {
            std::fs::remove_file(&old)?;
        }
    }
    match earlier {
        None => {
            tracing::info!(path = %path.display(), "encrypted a plain database of an earlier version in place")
        }
        Some(format) => {
            tracing::info!(path = %path.display(), ?format, "re-encrypted a database of an earlier page format in place")
        }
    }
    Ok(())
}

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
    // Data a migration cannot derive in SQL (the search index's terms come from Rust).
    for step in crate::registry::AFTER_MIGRATIONS {
        step(conn)?;
    }
    Ok(())
}

/// Opens (creating if needed) the database in `data_dir`, encrypted with `identity`'s database
/// key, and checks it belongs to that device. A new database is bound to the device on creation.
pub fn open_bound(data_dir: &Path, identity: &crate::device::DeviceIdentity) -> Result<Connection> {
    let device_id = identity.device_id.as_str();
    let path = data_dir.join(DB_FILE);
    let mut conn = open_keyed(&path, &identity.database_key())?;
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

/// Opens (creating if needed) a durable, migrated database at `path`, encrypted with `key`, that
/// belongs to no device: the branch server's copy of every device's records.
pub fn open_unbound(path: &Path, key: &DbKey) -> Result<Connection> {
    let mut conn = open_keyed(path, key)?;
    // The first read: a wrong key is reported here, plainly.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0))
        .map_err(|e| {
            if e.sqlite_error_code() != Some(rusqlite::ErrorCode::NotADatabase) {
                return CoreError::from(e);
            }
            CoreError::new(
                ErrorCode::Storage,
                format!(
                    "the database {} cannot be read with the key given: wrong key file, or a \
                     damaged database",
                    path.display()
                ),
            )
            .with("reason", "database_key_mismatch")
            .with("path", path.display().to_string())
        })?;
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

/// `result`, with "the database is busy" (another process holds it) as `data_dir_in_use` and
/// "file is not a database" (the key does not open it) said plainly.
fn unless_held<T>(result: rusqlite::Result<T>, data_dir: &Path) -> Result<T> {
    result.map_err(|e| {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
            return CoreError::new(
                ErrorCode::DeviceMismatch,
                format!(
                    "the database in {} cannot be read with this device's key: it belongs to \
                     another device, or it is damaged. Refusing to open it.",
                    data_dir.display()
                ),
            )
            .with("reason", "database_key_mismatch")
            .with("data_dir", data_dir.display().to_string());
        }
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

/// Opens an existing database read-only, without binding (verification from the CLI). A plain
/// database of an earlier version is read as it is: encrypting it is a write.
pub fn open_read_only(data_dir: &Path, key: &DbKey) -> Result<Connection> {
    // A folder this user may not read is said so, not reported as a missing database.
    crate::integrity::check_data_dir(data_dir, crate::integrity::DirUse::Read)?;
    let conn = open_keyed_read_only(&data_dir.join(DB_FILE), key)?;
    conn.busy_timeout(std::time::Duration::ZERO)?;
    // Opening is lazy: read once, so a database the app holds is reported now, clearly.
    unless_held(
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)),
        data_dir,
    )?;
    Ok(conn)
}

/// Runs `sql` (one or more statements) on the database in `data_dir` with its key, as the
/// support tool `dentpro db sql` does, and returns the rows of each statement in turn, in
/// `sqlite3`'s list format (`|` between columns, blobs as `X'..'`, NULL empty). Like
/// the app, it claims the database, so it is refused while the app holds it.
pub fn run_sql(data_dir: &Path, key: &DbKey, sql: &str) -> Result<String> {
    use rusqlite::types::ValueRef;
    let conn = open_keyed(&data_dir.join(DB_FILE), key)?;
    claim(&conn, data_dir)?;
    configure(&conn)?;
    let mut out = String::new();
    let mut batch = rusqlite::Batch::new(&conn, sql);
    while let Some(mut stmt) = rusqlite::fallible_iterator::FallibleIterator::next(&mut batch)? {
        let columns = stmt.column_count();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            let cells: Vec<String> = (0..columns)
                .map(|i| match row.get_ref(i) {
                    Ok(ValueRef::Null) | Err(_) => String::new(),
                    Ok(ValueRef::Integer(n)) => n.to_string(),
                    Ok(ValueRef::Real(x)) => x.to_string(),
                    Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                    Ok(ValueRef::Blob(b)) => format!("X'{}'", hex::encode_upper(b)),
                })
                .collect();
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    Ok(out)
}

/// Tables of the kernel, not projections of any record kind: the records themselves, the
/// server's log positions, key/value state, the outbox of side effects (work, not state: a
/// rebuild must never run or recreate it) and the migrations' history. Every other table of
/// the schema must be declared by some kind ([`crate::kind::Kind::TABLES`]), so a rebuild
/// replays it and verification compares it (a test checks the schema against the registry).
pub const KERNEL_TABLES: &[&str] = &[
    "records",
    "record_log",
    "meta",
    "outbox",
    "refinery_schema_history",
];

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
