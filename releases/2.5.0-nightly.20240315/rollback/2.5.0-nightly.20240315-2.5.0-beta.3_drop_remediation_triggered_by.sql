-- Undoes migrations/2.5.0-beta.3-2.5.0-nightly.20240315_remediation_triggered_by.sql (its
-- default and CHECK constraint go with the column).
ALTER TABLE remediation_runs DROP COLUMN IF EXISTS triggered_by;
