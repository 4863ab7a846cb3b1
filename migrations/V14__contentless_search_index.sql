-- The search index keeps only its index: no second copy of each patient's search text.
--
-- `patients_fts` stored every row twice: in the index and in its content table
-- (`patients_fts_content`: patient id, folded names, phone forms, file number), a b-tree written
-- by every registration and every edit and read by nothing but the edit that replaced the row.
-- A contentless FTS5 table (`content = ''`) keeps the index alone. Its rows are the patients'
-- rows: the index's rowid is `patients.search_key`, so a search joins the two by rowid.
--
-- `search_key` is the patients table's rowid, named (INTEGER PRIMARY KEY) so that VACUUM,
-- `VACUUM INTO` backups and SQLCipher's re-encryption (`sqlcipher_export`), which renumber
-- unnamed rowids, keep it. It is local bookkeeping: verification does not compare it (a rebuild
-- numbers the rows in its own order).
--
-- A contentless row is removed by naming the values it was indexed with (FTS5's 'delete'
-- command): the projection recomputes them from the patient's row before it changes, with the
-- same functions that indexed them (`crates/core/src/patients/projection.rs`). Changing those
-- functions therefore needs the index rebuilt from `patients`: bump
-- `patients::projection::SEARCH_TERMS_VERSION` and the next open re-indexes every patient.

CREATE TABLE patients_v14 (
    search_key          INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
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

INSERT INTO patients_v14 (search_key, id, file_number, name_en, name_ar, date_of_birth, sex, phone,
        national_id, address, emergency_contact, allergies, chronic_diseases, current_medications,
        medical_history, registered_by, registered_at, updated_at)
    SELECT rowid, id, file_number, name_en, name_ar, date_of_birth, sex, phone,
        national_id, address, emergency_contact, allergies, chronic_diseases, current_medications,
        medical_history, registered_by, registered_at, updated_at
    FROM patients ORDER BY rowid;

DROP TABLE patients;
ALTER TABLE patients_v14 RENAME TO patients;

CREATE VIRTUAL TABLE patients_fts_v14 USING fts5 (
    names,
    phone,
    file_number,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4 5 6',
    columnsize = 0,
    content = ''
);

-- Left empty: right after the migrations, `store::migrate` indexes every patient with today's
-- terms (`patients::projection::ensure_search_terms`, in one transaction with the version it
-- records), so no row an earlier version indexed is carried over.

DROP TABLE patients_fts;
ALTER TABLE patients_fts_v14 RENAME TO patients_fts;

-- As V6 set it for the table this one replaces (the setting lives in the table's own config).
INSERT INTO patients_fts (patients_fts, rank) VALUES ('automerge', 16);
