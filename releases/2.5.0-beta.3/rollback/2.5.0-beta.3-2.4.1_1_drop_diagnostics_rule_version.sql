-- Undoes migrations/2.4.1-2.5.0-beta.3_2_diagnostics_rule_version.sql (its index and
-- foreign key go with the column). Runs first: the column references the table that
-- the next rollback drops.
ALTER TABLE diagnostics DROP COLUMN IF EXISTS rule_version_id;
