-- CM Diagnostics 2.4.1 (specification section 3.2): the ML relevance score of a diagnostic.
-- Undone by rollback/2.4.1-2.4.0_2_drop_ml_score.sql.
ALTER TABLE diagnostics ADD COLUMN IF NOT EXISTS ml_score DECIMAL(5,4);
