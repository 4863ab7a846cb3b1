-- The outbox (crates/core/src/outbox): side effects queued in the transaction of the record
-- that causes them, performed after the commit by a worker, marked done afterwards. Not a
-- projection: replay, rebuild, verification, pulls and the branch server never write it.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    -- Handed to the receiver, which keeps the first delivery of a key and ignores repeats.
    idempotency_key TEXT NOT NULL UNIQUE,
    record_id TEXT NOT NULL,
    effect TEXT NOT NULL,
    -- What the effect acts on (a document's id).
    target TEXT NOT NULL,
    -- The effect's input (a rendered document); cleared once done.
    body BLOB,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    done_at TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE done_at IS NULL;
