-- Workstations an admin revoked (`device.revoked` records). The branch server refuses a
-- revoked device's later records; its earlier ones stay in the log and keep travelling.
-- At most one revocation per device: a second one (two admins, offline) does not apply and is
-- refused by the server.
CREATE TABLE device_revocations (
    device_id    TEXT PRIMARY KEY,
    record_id    TEXT NOT NULL,
    revoked_at   TEXT NOT NULL,
    by_user_id   TEXT,
    -- The workstation the admin revoked it from.
    by_device_id TEXT NOT NULL,
    reason       TEXT NOT NULL
) STRICT;
