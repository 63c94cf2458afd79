-- pinline:no-transaction
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block, so this file runs on
-- its own (the marker above must stay the first line). It does not block writes.
-- If a concurrent build fails it leaves an INVALID index behind: drop it and rerun.
-- Undone by rollback/2.4.1-2.4.0_1_drop_ml_score_index.sql.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_diagnostics_ml_score ON diagnostics(ml_score);
