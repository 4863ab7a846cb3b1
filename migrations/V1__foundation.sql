-- DentPro workstation database, foundation schema.
--
-- `records` is the only source of truth: an append-only, hash-chained, signed log.
-- Every other table is a projection of the records, written only by the projection code in the
-- same transaction as the record that causes it, and can be rebuilt from the records.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE records (
    -- Local application order. Records of this device are contiguous by `seq`; records pulled
    -- from other devices (sync) will take their place in this order too.
    local_index   INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    device_id     TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    prev_hash     BLOB NOT NULL,
    kind          TEXT NOT NULL,
    kind_version  INTEGER NOT NULL,
    actor_user_id TEXT,
    actor_role    TEXT,
    session_id    TEXT,
    business_date TEXT NOT NULL,
    device_time   TEXT NOT NULL,
    payload       BLOB NOT NULL,
    hash          BLOB NOT NULL,
    signature     BLOB NOT NULL,
    UNIQUE (device_id, seq)
) STRICT;

CREATE INDEX records_kind ON records (kind, local_index);
CREATE INDEX records_actor ON records (actor_user_id, local_index);
CREATE INDEX records_date ON records (business_date, local_index);

-- Append-only: no silent edits, no deletions. Corrections are new records.
CREATE TRIGGER records_no_update BEFORE UPDATE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are append-only: UPDATE refused');
END;

CREATE TRIGGER records_no_delete BEFORE DELETE ON records
BEGIN
    SELECT RAISE(ABORT, 'records are append-only: DELETE refused');
END;

-- Which patient (if any) a record concerns: lets the audit trail filter by patient with an index.
CREATE TABLE record_subjects (
    local_index INTEGER PRIMARY KEY REFERENCES records (local_index),
    patient_id  TEXT NOT NULL
) STRICT;
CREATE INDEX record_subjects_patient ON record_subjects (patient_id, local_index);

CREATE TABLE branch (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    language        TEXT NOT NULL,
    active          INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE patients (
    id                  TEXT PRIMARY KEY,
    file_number         TEXT NOT NULL UNIQUE,
    name_en             TEXT NOT NULL,
    name_ar             TEXT NOT NULL,
    date_of_birth       TEXT NOT NULL,
    sex                 TEXT NOT NULL,
    phone               TEXT NOT NULL,
    national_id         TEXT,
    address             TEXT NOT NULL,
    emergency_contact   TEXT NOT NULL,
    allergies           TEXT NOT NULL,
    chronic_diseases    TEXT NOT NULL,
    current_medications TEXT NOT NULL,
    medical_history     TEXT NOT NULL,
    registered_by       TEXT NOT NULL,
    registered_at       TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) STRICT;

-- Type-ahead search. Names are stored normalised (case, Arabic letter variants, diacritics),
-- phone numbers as digits, so a query in either script matches by token prefix.
CREATE VIRTUAL TABLE patients_fts USING fts5 (
    patient_id UNINDEXED,
    names,
    phone,
    file_number,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
