-- The kind index leaves out the most frequent record, a file opened (`patient.viewed`): every
-- file opened wrote a page of it, and nothing looks those records up by kind (a file's history
-- finds them through `records_patient`; the audit trail's filter on that one kind reads the
-- records newest first, where they are most of what it meets). SQLite uses a partial index only
-- for a query that repeats its condition, so every query by kind names it: `kind_indexed!()`
-- in crates/core/src/ledger.rs.
DROP INDEX records_kind;
CREATE INDEX records_kind ON records (kind, local_index) WHERE kind <> 'patient.viewed';
