-- Which user account a record concerns is a fact of the record itself: its payload's `user_id`
-- (account records, logins, cashier terminals). Incremental replay (core `replay`) finds one
-- account's records through this index instead of replaying the whole history when a pulled
-- record lands before a pending one. Partial, like `records_patient`: a record without a
-- `user_id` (a file opened, a patient registered) writes no page of it.
CREATE INDEX records_user ON records (json_extract(CAST(payload AS TEXT), '$.user_id'), local_index)
    WHERE json_extract(CAST(payload AS TEXT), '$.user_id') IS NOT NULL;
