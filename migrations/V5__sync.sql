-- Sync with the branch server.

-- Where each record stands in the branch server's log. A row comes from a push receipt (this
-- device's records) or a pull (every device's). A record without a row is pending: not yet
-- accepted by the server. The server keeps the same table as its log (log_index from 0).
-- Projections follow this order (accepted records by log_index, then pending ones by
-- local_index); refused records stay in the chain but are not applied.
CREATE TABLE record_log (
    log_index          INTEGER PRIMARY KEY,
    local_index        INTEGER NOT NULL UNIQUE REFERENCES records (local_index),
    verdict            TEXT NOT NULL CHECK (verdict IN ('accepted', 'refused')),
    reason             TEXT,
    -- How far the pushing device's clock was from the server's when it pushed, if beyond the
    -- branch's bound: the record is flagged, never reordered (order is the log's).
    clock_skew_seconds INTEGER
) STRICT;

-- Edits of a patient's file that lost to a concurrent edit of the same field which reached the
-- server first: kept and shown on the file, never applied silently.
CREATE TABLE patient_conflicts (
    record_id   TEXT NOT NULL,
    field       TEXT NOT NULL,
    patient_id  TEXT NOT NULL,
    expected    TEXT NOT NULL,
    proposed    TEXT NOT NULL,
    kept        TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    by_user_id  TEXT,
    at          TEXT NOT NULL,
    PRIMARY KEY (record_id, field)
) STRICT;
CREATE INDEX patient_conflicts_patient ON patient_conflicts (patient_id);

-- Cashier accounts and the cashier terminals (device ids) they may work at.
CREATE TABLE cashier_terminals (
    user_id   TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
) STRICT;
