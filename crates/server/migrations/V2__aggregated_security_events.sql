-- Security events aggregated, so that recording refusals cannot fill the disk (issue 9):
-- one row per (source, kind, reason, hour) with a count, first and last time and one sample
-- (device id and message, capped and with control characters escaped before storing).
-- `source` is 'ip:<address>' before authentication, 'device:<id>' after it, 'console' for
-- the admin's commands. Rows of unauthenticated sources are pruned oldest first beyond a
-- fixed number (store.rs), so the table stays bounded whatever an attacker sends.
CREATE TABLE security_events_v2 (
    id        INTEGER PRIMARY KEY,
    source    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    reason    TEXT NOT NULL,
    bucket    INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    at        TEXT NOT NULL,
    last_at   TEXT NOT NULL,
    device_id TEXT,
    message   TEXT NOT NULL,
    UNIQUE (source, kind, reason, bucket)
) STRICT;

-- Events of the previous version, one row each (their id keeps them apart).
INSERT INTO security_events_v2 (id, source, kind, reason, bucket, count, at, last_at, device_id, message)
SELECT id, 'legacy:' || id, kind, reason, 0, 1, at, at, device_id, message FROM security_events;

DROP TABLE security_events;
ALTER TABLE security_events_v2 RENAME TO security_events;
CREATE INDEX security_events_unauthenticated ON security_events (last_at) WHERE source LIKE 'ip:%';
