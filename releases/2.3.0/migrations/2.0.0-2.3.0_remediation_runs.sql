-- CM Diagnostics 2.3.0: remediation runs, one row per execution of a remediation action.
-- Undone by rollback/2.3.0-2.0.0_drop_remediation_runs.sql.
CREATE TABLE IF NOT EXISTS remediation_runs (
    id                    bigserial   PRIMARY KEY,
    remediation_action_id bigint      NOT NULL
        CONSTRAINT remediation_runs_action_fkey
        REFERENCES remediation_actions (id) ON DELETE CASCADE,
    content_manager_id    bigint      NOT NULL
        CONSTRAINT remediation_runs_content_manager_fkey
        REFERENCES content_managers (id) ON DELETE CASCADE,
    -- The finding that prompted the run, if any; kept when the finding is purged.
    diagnostic_id         bigint
        CONSTRAINT remediation_runs_diagnostic_fkey
        REFERENCES diagnostics (id) ON DELETE SET NULL,
    status                text        NOT NULL DEFAULT 'pending'
        CONSTRAINT remediation_runs_status_check
        CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    output                text,
    started_at            timestamptz,
    finished_at           timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT remediation_runs_finished_after_started_check
        CHECK (finished_at IS NULL OR (started_at IS NOT NULL AND finished_at >= started_at))
);

CREATE INDEX IF NOT EXISTS idx_remediation_runs_action
    ON remediation_runs (remediation_action_id);
CREATE INDEX IF NOT EXISTS idx_remediation_runs_content_manager_created
    ON remediation_runs (content_manager_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_remediation_runs_diagnostic
    ON remediation_runs (diagnostic_id);
