-- CM Diagnostics 2.0.0: the initial schema, created on an empty database.
-- Undone by rollback/2.0.0-0.0.0_drop_schema.sql.

-- The Content Manager installations that CM Diagnostics watches.
CREATE TABLE content_managers (
    id              bigserial   PRIMARY KEY,
    name            text        NOT NULL UNIQUE,
    base_url        text        NOT NULL,
    product_version text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The checks the diagnostic engine runs; code is stable across releases ("PERF-001").
CREATE TABLE diagnostic_rules (
    id               bigserial   PRIMARY KEY,
    code             text        NOT NULL UNIQUE,
    title            text        NOT NULL,
    description      text,
    default_severity text        NOT NULL DEFAULT 'warning'
        CONSTRAINT diagnostic_rules_default_severity_check
        CHECK (default_severity IN ('info', 'warning', 'error', 'critical')),
    enabled          boolean     NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- One finding of one rule on one Content Manager.
CREATE TABLE diagnostics (
    id                 bigserial   PRIMARY KEY,
    content_manager_id bigint      NOT NULL
        REFERENCES content_managers (id) ON DELETE CASCADE,
    rule_id            bigint      NOT NULL
        REFERENCES diagnostic_rules (id) ON DELETE RESTRICT,
    severity           text        NOT NULL
        CONSTRAINT diagnostics_severity_check
        CHECK (severity IN ('info', 'warning', 'error', 'critical')),
    message            text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_diagnostics_content_manager_created
    ON diagnostics (content_manager_id, created_at DESC);
CREATE INDEX idx_diagnostics_rule_id ON diagnostics (rule_id);

-- What an operator can do about a rule's findings.
CREATE TABLE remediation_actions (
    id                bigserial   PRIMARY KEY,
    rule_id           bigint      NOT NULL
        REFERENCES diagnostic_rules (id) ON DELETE CASCADE,
    name              text        NOT NULL,
    description       text,
    script            text        NOT NULL,
    requires_approval boolean     NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT remediation_actions_rule_name_key UNIQUE (rule_id, name)
);
