-- Undoes migrations/2.3.0-2.4.0_diagnostic_category.sql (the default and NOT NULL go
-- with the column).
ALTER TABLE diagnostics DROP COLUMN IF EXISTS category;
