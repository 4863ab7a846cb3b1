-- A file's history is read from the patient index alone.
--
-- Opening a file shows its newest history entries (`patients::HISTORY_SHOWN`): who did what to
-- it, when. They were found through `records_patient` and then read from `records`, where a
-- patient's records lie far apart (one page each, every one of them decrypted and
-- authenticated when it is not cached): over half of the CPU of opening a file with a short
-- history, and up to a hundred random page reads with a long one. The index now also carries
-- what a history entry shows (kind, time, actor), so those entries are read from a few
-- adjacent index pages; only edits and conflict resolutions, whose changes are in the payload,
-- still read their record. The index's order is unchanged (`local_index` is unique per
-- patient); its entries are larger, so it is written a little more often per record.
DROP INDEX records_patient;

CREATE INDEX records_patient
    ON records (json_extract(CAST(payload AS TEXT), '$.patient_id'), local_index, kind, device_time, actor_user_id)
    WHERE json_extract(CAST(payload AS TEXT), '$.patient_id') IS NOT NULL;
