-- pinline:no-transaction
-- Undoes migrations/2.4.0-2.4.1_ml_score_index.sql. DROP INDEX CONCURRENTLY cannot run
-- inside a transaction block (the marker above must stay the first line).
DROP INDEX CONCURRENTLY IF EXISTS idx_diagnostics_ml_score;
