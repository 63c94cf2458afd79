-- Undoes migrations/2.4.0-2.4.1.sql: drops the ML score column.
ALTER TABLE diagnostics DROP COLUMN IF EXISTS ml_score;
