-- CM Diagnostics 2.5.0 (nightly 2024-03-15): what started a remediation run. Existing runs
-- were all started by hand, which is also the default.
-- Undone by rollback/2.5.0-nightly.20240315-2.5.0-beta.3_drop_remediation_triggered_by.sql.
ALTER TABLE remediation_runs ADD COLUMN IF NOT EXISTS triggered_by text NOT NULL DEFAULT 'manual'
    CONSTRAINT remediation_runs_triggered_by_check
    CHECK (triggered_by IN ('manual', 'schedule', 'diagnostic', 'api'));
