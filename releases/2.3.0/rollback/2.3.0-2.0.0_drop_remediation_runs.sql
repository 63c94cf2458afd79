-- Undoes migrations/2.0.0-2.3.0_remediation_runs.sql. The run history is lost; its
-- indexes, constraints and sequence are dropped with the table.
DROP TABLE IF EXISTS remediation_runs;
