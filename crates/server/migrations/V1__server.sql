-- The branch server's own tables, beside the core's (the server's database also holds every
-- device's records and the core projections, through the core's migrations).

-- Enrolled workstations. A revoked device's later pushes are refused; its records stay.
CREATE TABLE devices (
    device_id    TEXT PRIMARY KEY,
    public_key   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    label        TEXT NOT NULL,
    -- First four hex digits of the device id: the station of its patient file numbers, unique
    -- among the branch's devices.
    station      TEXT NOT NULL,
    enrolled_at  TEXT NOT NULL,
    revoked_at   TEXT,
    last_seen_at TEXT,
    -- The log index the device has pulled up to (exclusive): its sync lag is log size - this.
    pulled_to    INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One-time enrolment codes, kept as SHA-256 hashes.
CREATE TABLE enrolment_codes (
    code_hash  TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_by    TEXT,
    used_at    TEXT
) STRICT;

-- A device offered a different record at a seq the log already holds: a fork. Kept whole,
-- alerted, never dropped; the device's pushes stop until an admin looks.
CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    device_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    logged_hash TEXT NOT NULL,
    record      TEXT NOT NULL,
    received_at TEXT NOT NULL
) STRICT;

-- Refused requests and records worth an admin's eye: forged signatures, revoked devices,
-- replayed or foreign tokens, forks, records refused by the rules.
CREATE TABLE security_events (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    device_id TEXT,
    kind      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    message   TEXT NOT NULL
) STRICT;
