-- Which patient a record concerns is a fact of the record itself: its payload's `patient_id`.
-- An expression index over the records replaces the `record_subjects` projection table, so a
-- patient record writes one index page instead of a table page and an index page, and there
-- is one definition of "the patient a record concerns" instead of two.
DROP TABLE record_subjects;

CREATE INDEX records_patient ON records (json_extract(CAST(payload AS TEXT), '$.patient_id'), local_index)
    WHERE json_extract(CAST(payload AS TEXT), '$.patient_id') IS NOT NULL;
