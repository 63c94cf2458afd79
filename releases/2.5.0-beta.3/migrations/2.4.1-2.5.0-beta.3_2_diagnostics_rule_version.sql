-- CM Diagnostics 2.5.0: a diagnostic records the rule revision that raised it. Findings
-- written before 2.5.0 keep NULL (revision unknown).
-- Undone by rollback/2.5.0-beta.3-2.4.1_1_drop_diagnostics_rule_version.sql.
ALTER TABLE diagnostics ADD COLUMN IF NOT EXISTS rule_version_id bigint
    CONSTRAINT diagnostics_rule_version_fkey
    REFERENCES diagnostic_rule_versions (id) ON DELETE SET NULL;

CREATE INDEX IF NOT EXISTS idx_diagnostics_rule_version_id ON diagnostics (rule_version_id);
