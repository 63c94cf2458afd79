-- CM Diagnostics 2.5.0: versioned diagnostic rules. Every change to a rule is kept as a
-- revision; the current rules become revision 1.
-- Undone by rollback/2.5.0-beta.3-2.4.1_2_drop_rule_versions.sql.
CREATE TABLE IF NOT EXISTS diagnostic_rule_versions (
    id           bigserial   PRIMARY KEY,
    rule_id      bigint      NOT NULL
        CONSTRAINT diagnostic_rule_versions_rule_fkey
        REFERENCES diagnostic_rules (id) ON DELETE CASCADE,
    revision     integer     NOT NULL
        CONSTRAINT diagnostic_rule_versions_revision_check CHECK (revision > 0),
    definition   jsonb       NOT NULL,
    change_note  text,
    published_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT diagnostic_rule_versions_rule_revision_key UNIQUE (rule_id, revision)
);

INSERT INTO diagnostic_rule_versions (rule_id, revision, definition, change_note)
SELECT r.id,
       1,
       jsonb_build_object(
           'code', r.code,
           'title', r.title,
           'description', r.description,
           'defaultSeverity', r.default_severity,
           'enabled', r.enabled),
       'Imported from the rule as it was before 2.5.0'
  FROM diagnostic_rules AS r
ON CONFLICT (rule_id, revision) DO NOTHING;
