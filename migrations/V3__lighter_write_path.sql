-- Fewer pages written per record. Benchmarks showed the write path is bound by the pages each
-- commit writes and syncs; every record paid for two indexes that only the audit trail's user
-- and date filters use. Those filters now scan `records` from the newest backwards (a
-- manager's occasional query over a year of records costs tens of milliseconds), and every
-- record of every workstation writes two pages fewer.
DROP INDEX records_actor;
DROP INDEX records_date;
