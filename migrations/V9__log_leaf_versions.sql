-- Which form of Merkle leaf covers each log entry (core `entry_leaf`): 1 = record hash, verdict
-- and reason (every entry logged before this migration, so checkpoints already pinned by
-- workstations still verify); 2 = also the clock-skew flag (what the server logs from now on).
ALTER TABLE record_log ADD COLUMN leaf_version INTEGER NOT NULL DEFAULT 1 CHECK (leaf_version IN (1, 2));
