-- CM Diagnostics 2.4.0: every diagnostic belongs to a category.
-- Undone by rollback/2.4.0-2.3.0_drop_diagnostic_category.sql.
ALTER TABLE diagnostics ADD COLUMN IF NOT EXISTS category text;

-- Backfill existing findings from the prefix of their rule's code ("PERF-001").
UPDATE diagnostics AS d
   SET category = CASE split_part(r.code, '-', 1)
                      WHEN 'PERF' THEN 'performance'
                      WHEN 'SEC'  THEN 'security'
                      WHEN 'CFG'  THEN 'configuration'
                      WHEN 'IDX'  THEN 'indexing'
                      ELSE 'general'
                  END
  FROM diagnostic_rules AS r
 WHERE r.id = d.rule_id
   AND d.category IS NULL;

-- Findings written by 2.3.0 instances during a rolling update get the default.
ALTER TABLE diagnostics ALTER COLUMN category SET DEFAULT 'general';
ALTER TABLE diagnostics ALTER COLUMN category SET NOT NULL;
