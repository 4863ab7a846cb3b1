-- Type-ahead search over a large registry (benchmarked at 100k patients, p99 ≤ 5 ms).
--
-- A prefix query longer than the longest prefix index makes FTS5 merge the doclists of every
-- term starting with it: typing "9627" (the start of every Jordanian mobile number) or a
-- 4-character station code merged ~100k terms (~25 ms). Prefix indexes up to 6 characters
-- answer those from a single doclist. `columnsize = 0`: nothing ranks by column length, so
-- the per-row size table is not kept (one b-tree less written per registration or edit).
--
-- The rows are carried over as they are (same values, same rowids); the table keeps its name.
CREATE VIRTUAL TABLE patients_fts_v2 USING fts5 (
    patient_id UNINDEXED,
    names,
    phone,
    file_number,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3 4 5 6',
    columnsize = 0
);

INSERT INTO patients_fts_v2 (rowid, patient_id, names, phone, file_number)
    SELECT rowid, patient_id, names, phone, file_number FROM patients_fts;

DROP TABLE patients_fts;

ALTER TABLE patients_fts_v2 RENAME TO patients_fts;
