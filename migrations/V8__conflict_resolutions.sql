-- Staff act on an edit conflict from the patient's file: apply the losing edit's value after all
-- (a normal `patient.updated` goes with the resolution) or keep the current value. Either way a
-- `patient.conflict_resolved` record marks the conflict resolved; the row stays, so nothing is
-- lost, and the file lists only the open ones. All four columns are NULL while it is open.
ALTER TABLE patient_conflicts ADD COLUMN outcome TEXT CHECK (outcome IN ('applied', 'dismissed'));
ALTER TABLE patient_conflicts ADD COLUMN resolved_by TEXT;
ALTER TABLE patient_conflicts ADD COLUMN resolved_at TEXT;
-- The `patient.conflict_resolved` record.
ALTER TABLE patient_conflicts ADD COLUMN resolved_record_id TEXT;
