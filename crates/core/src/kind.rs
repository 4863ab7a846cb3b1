//! What every record kind is: the [`Kind`] trait its payload type implements (kind string,
//! version, required action, subjects, projection tables, how it applies, and the branch
//! server's extra admission rule), and [`Event`], a payload of any kind on its way into a
//! record. The list of kinds is in [`crate::registry`]; this file names no area, so every area
//! can use it without an import circle.

use crate::permissions::{Action, Role};
use crate::record::{Record, canonical_json};
use crate::{CoreError, Result};
use ed25519_dalek::VerifyingKey;
use rusqlite::{Connection, Transaction};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::fmt;

/// How the records about one subject are found (by [`crate::replay`]).
#[derive(Debug, Clone, Copy)]
pub enum Finder {
    /// An indexed expression over `records r` that equals the subject's id.
    Payload(&'static str),
    /// Every record of this kind (through `records_kind`): for subjects whose records are few
    /// whatever the history's length (the branch, settings, usernames, revocations).
    Kind(&'static str),
}

/// A kind of subject (`<prefix>:<id>`, see [`Kind::subjects`]): where its records are and how
/// its rows are deleted before [`crate::replay`] re-applies them. Each area declares its own
/// next to its projection (`SUBJECTS` in its `projection.rs`); [`crate::registry`] lists them.
pub struct SubjectKind {
    pub prefix: &'static str,
    pub finder: Finder,
    /// The projection tables that hold rows of such a subject (a test checks that together
    /// they are [`crate::registry::projection_tables`]).
    pub tables: &'static [&'static str],
    /// Deletes one subject's rows from those tables.
    pub delete: fn(&Transaction<'_>, &str) -> Result<()>,
}

/// A projection table that is not read or emptied as plain rows: a contentless search index
/// (no rows to select, emptied by its own command), or a table carrying local bookkeeping that
/// a rebuild numbers differently (a rowid). Each area declares its own (`TABLE_VIEWS` in its
/// `projection.rs`); every other projection table is read with `SELECT *` and emptied with
/// `DELETE`.
pub struct TableView {
    pub table: &'static str,
    /// Its rows as text, in any order (verification sorts them), comparable between the live
    /// database and a rebuild of it.
    pub rows: fn(&Connection) -> Result<Vec<String>>,
    /// Empties it (before a full replay).
    pub clear: fn(&Connection) -> Result<()>,
}

/// Every row of `table` as text, the columns in `skip` left out.
pub fn plain_rows(conn: &Connection, table: &str, skip: &[&str]) -> Result<Vec<String>> {
    let columns: Vec<String> = conn
        .prepare_cached("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?
        .into_iter()
        .filter(|c| !skip.contains(&c.as_str()))
        .collect();
    let mut stmt = conn.prepare(&format!("SELECT {} FROM {table}", columns.join(", ")))?;
    let rows = stmt
        .query_map([], |r| {
            let mut cells = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                cells.push(format!("{:?}", r.get::<_, rusqlite::types::Value>(i)?));
            }
            Ok(cells.join("|"))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The record being applied: projections take times and actors from it, never from a clock.
pub struct Applied<'a> {
    pub local_index: i64,
    pub record: &'a Record,
}

impl Applied<'_> {
    pub fn time(&self) -> &str {
        &self.record.body.device_time
    }
}

/// What the branch server knows when it admits a pushed record: its database (the server's
/// projections, in log order), the record and the key of the device that pushed it.
pub struct AdmitContext<'a> {
    pub conn: &'a Connection,
    pub record: &'a Record,
    pub sender_key: &'a VerifyingKey,
}

/// A kind's say before the server checks the actor's account and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    /// The usual checks: the actor's account, its role against the required action, then
    /// [`Kind::admit`].
    Check,
    /// The record founds the branch (there is no account to check yet): accepted as it is.
    Founding,
    /// Refused, with the reason logged.
    Refuse(String),
}

/// A payload type that is a record kind. Payload formats are forever: a change of one bumps
/// [`Kind::VERSION`] and [`Kind::decode`] upcasts the older versions, so records already stored
/// are read as before.
///
/// **Architecture invariant:** [`Kind::apply`] is the only code that writes the tables named in
/// [`Kind::TABLES`], and it is only called by the ledger (inside the record's transaction), by
/// sync (pulled records, replay) and by verification's rebuild.
pub trait Kind: Serialize + DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static {
    /// The kind string on the record, e.g. `patient.registered`.
    const KIND: &'static str;
    /// The payload version written now.
    const VERSION: u32 = 1;
    /// The permission the record's actor must hold, checked by the ledger before it writes and
    /// by the branch server when the record arrives (under the same
    /// [`crate::permissions::MATRIX`]). `None`: records any session or the device itself
    /// writes (device start, logins, refusals, own language).
    const ACTION: Option<Action>;
    /// The projection tables [`Kind::apply`] writes (a test checks that every projection table
    /// of the schema is declared by some kind).
    const TABLES: &'static [&'static str];

    /// The shared things the record changes (`patient:<id>`, `user:<id>`, `username:<name>`,
    /// `setting:<key>`, `branch`, `device:<id>`). Two records with a subject in common must be
    /// applied in the server's log order; records with none in common commute.
    fn subjects(&self) -> Vec<String> {
        Vec::new()
    }

    /// How the record changes its [`Kind::TABLES`], inside the record's transaction.
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()>;

    /// The server's first look at a pushed record, before the actor's account and role.
    fn admit_first(&self, _cx: &AdmitContext<'_>) -> Result<Admit> {
        Ok(Admit::Check)
    }

    /// The server's extra rule for this kind, after the actor's account and role passed
    /// (`actor_role`: the account's role; `None` for kinds without a required action).
    /// `Some(reason)` refuses the record.
    fn admit(&self, _cx: &AdmitContext<'_>, _actor_role: Option<Role>) -> Result<Option<String>> {
        Ok(None)
    }

    /// Reads a stored payload of `version`. Older versions are upcast here when a kind changes.
    fn decode(version: u32, payload: &[u8]) -> Result<Self> {
        if version != Self::VERSION {
            return Err(CoreError::internal(format!(
                "unknown version {version} of {}",
                Self::KIND
            )));
        }
        Ok(serde_json::from_slice(payload)?)
    }
}

/// [`Kind`] without its associated constants, so payloads of different kinds travel together.
trait AnyKind: fmt::Debug + Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    fn kind_version(&self) -> u32;
    fn required_action(&self) -> Option<Action>;
    fn tables(&self) -> &'static [&'static str];
    fn subjects(&self) -> Vec<String>;
    fn payload(&self) -> Result<Vec<u8>>;
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()>;
    fn admit_first(&self, cx: &AdmitContext<'_>) -> Result<Admit>;
    fn admit(&self, cx: &AdmitContext<'_>, actor_role: Option<Role>) -> Result<Option<String>>;
    fn as_any(&self) -> &dyn Any;
    fn clone_box(&self) -> Box<dyn AnyKind>;
}

impl<K: Kind> AnyKind for K {
    fn kind(&self) -> &'static str {
        K::KIND
    }
    fn kind_version(&self) -> u32 {
        K::VERSION
    }
    fn required_action(&self) -> Option<Action> {
        K::ACTION
    }
    fn tables(&self) -> &'static [&'static str] {
        K::TABLES
    }
    fn subjects(&self) -> Vec<String> {
        Kind::subjects(self)
    }
    fn payload(&self) -> Result<Vec<u8>> {
        canonical_json(self)
    }
    fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        Kind::apply(self, tx, at)
    }
    fn admit_first(&self, cx: &AdmitContext<'_>) -> Result<Admit> {
        Kind::admit_first(self, cx)
    }
    fn admit(&self, cx: &AdmitContext<'_>, actor_role: Option<Role>) -> Result<Option<String>> {
        Kind::admit(self, cx, actor_role)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn clone_box(&self) -> Box<dyn AnyKind> {
        Box::new(self.clone())
    }
}

/// A payload of any registered kind, on its way into a record (or decoded from one by
/// [`crate::registry::decode`]). Made from a payload with `.into()`.
pub struct Event(Box<dyn AnyKind>);

impl Event {
    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    pub fn kind_version(&self) -> u32 {
        self.0.kind_version()
    }

    /// See [`Kind::ACTION`].
    pub fn required_action(&self) -> Option<Action> {
        self.0.required_action()
    }

    /// See [`Kind::TABLES`].
    pub fn tables(&self) -> &'static [&'static str] {
        self.0.tables()
    }

    /// See [`Kind::subjects`].
    pub fn subjects(&self) -> Vec<String> {
        self.0.subjects()
    }

    /// The canonical JSON (RFC 8785) the record carries.
    pub fn payload(&self) -> Result<Vec<u8>> {
        self.0.payload()
    }

    /// The payload, if it is of kind `K`.
    pub fn get<K: Kind>(&self) -> Option<&K> {
        self.0.as_any().downcast_ref()
    }

    pub(crate) fn apply(&self, tx: &Transaction<'_>, at: &Applied<'_>) -> Result<()> {
        self.0.apply(tx, at)
    }

    pub(crate) fn admit_first(&self, cx: &AdmitContext<'_>) -> Result<Admit> {
        self.0.admit_first(cx)
    }

    pub(crate) fn admit(&self, cx: &AdmitContext<'_>, actor_role: Option<Role>) -> Result<Option<String>> {
        self.0.admit(cx, actor_role)
    }
}

impl<K: Kind> From<K> for Event {
    fn from(payload: K) -> Self {
        Event(Box::new(payload))
    }
}

impl Clone for Event {
    fn clone(&self) -> Self {
        Event(self.0.clone_box())
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind())?;
        self.0.fmt(f)
    }
}

/// The payload of `record` if it is of kind `K` and readable.
pub fn payload_of<K: Kind>(record: &Record) -> Option<K> {
    let b = &record.body;
    (b.kind == K::KIND)
        .then(|| K::decode(b.kind_version, &b.payload).ok())
        .flatten()
}

/// Checks that `payload` serializes to exactly `json` (the canonical bytes a record signs), and
/// that `json`, as a stored record holds it, decodes through the registry and re-encodes to the
/// same bytes: the per-area golden tests of payload formats.
#[cfg(test)]
pub(crate) fn assert_payload_json<K: Kind + PartialEq>(payload: &K, json: &str) {
    let bytes = canonical_json(payload).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        json,
        "{} changed its JSON",
        K::KIND
    );
    let stored = crate::registry::decode(K::KIND, K::VERSION, json.as_bytes()).unwrap();
    assert_eq!(
        stored.get::<K>(),
        Some(payload),
        "{} read back differently",
        K::KIND
    );
    assert_eq!(String::from_utf8(stored.payload().unwrap()).unwrap(), json);
}
