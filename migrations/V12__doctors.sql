-- Doctors and chairs (core `doctors` area): doctor profiles linked to a doctor's account, the
-- branch's chairs (operatories), each doctor's weekly working hours and leave. Every row is
-- written by the area's projection (`doctors/projection.rs`) from signed records.

-- One profile per doctor account, one licence number per branch: two desks registering offline
-- are ordered by the branch server's log (the second one does not apply there, nor here).
CREATE TABLE doctors (
    doctor_id     TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL UNIQUE,
    name_en       TEXT NOT NULL,
    name_ar       TEXT NOT NULL,
    specialty     TEXT NOT NULL,
    licence       TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    registered_by TEXT,
    updated_at    TEXT NOT NULL
) STRICT;

-- The weekly hours, replaced as a whole week by each `doctor.hours_set`. Minutes of the day.
CREATE TABLE doctor_hours (
    doctor_id    TEXT NOT NULL,
    weekday      INTEGER NOT NULL, -- 1 = Monday … 7 = Sunday (ISO 8601)
    start_minute INTEGER NOT NULL,
    end_minute   INTEGER NOT NULL,
    PRIMARY KEY (doctor_id, weekday, start_minute)
) STRICT, WITHOUT ROWID;

-- Leave: a day off, a holiday (a range of dates), a late start (a date, and the minute work
-- starts). Cancelled leave stays, with who cancelled it and when.
CREATE TABLE doctor_leave (
    leave_id      TEXT PRIMARY KEY,
    doctor_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    from_date     TEXT NOT NULL,
    to_date       TEXT NOT NULL,
    starts_minute INTEGER,
    note          TEXT NOT NULL,
    added_at      TEXT NOT NULL,
    added_by      TEXT,
    cancelled_at  TEXT,
    cancelled_by  TEXT
) STRICT;
CREATE INDEX doctor_leave_by_doctor ON doctor_leave (doctor_id, to_date);

CREATE TABLE chairs (
    chair_id   TEXT PRIMARY KEY,
    label_en   TEXT NOT NULL,
    label_ar   TEXT NOT NULL,
    status     TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Incremental replay (core `replay`) finds a doctor's, a chair's and a licence number's records
-- through these (partial, like `records_patient`: other records write no page of them).
CREATE INDEX records_doctor ON records (json_extract(CAST(payload AS TEXT), '$.doctor_id'), local_index)
    WHERE json_extract(CAST(payload AS TEXT), '$.doctor_id') IS NOT NULL;
CREATE INDEX records_chair ON records (json_extract(CAST(payload AS TEXT), '$.chair_id'), local_index)
    WHERE json_extract(CAST(payload AS TEXT), '$.chair_id') IS NOT NULL;
CREATE INDEX records_licence ON records (json_extract(CAST(payload AS TEXT), '$.profile.licence'), local_index)
    WHERE json_extract(CAST(payload AS TEXT), '$.profile.licence') IS NOT NULL;
