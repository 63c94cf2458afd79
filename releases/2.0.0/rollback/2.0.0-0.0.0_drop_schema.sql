-- Undoes migrations/0.0.0-2.0.0_initial_schema.sql: drops the whole CM Diagnostics schema.
-- DESTROYS ALL DATA. Tables are dropped children first; their bigserial sequences and
-- indexes go with them.
DROP TABLE IF EXISTS remediation_actions;
DROP TABLE IF EXISTS diagnostics;
DROP TABLE IF EXISTS diagnostic_rules;
DROP TABLE IF EXISTS content_managers;
