-- Undoes migrations/2.4.1-2.5.0-beta.3_1_rule_versions.sql. Rule revision history is lost;
-- the rules themselves (diagnostic_rules) are untouched.
DROP TABLE IF EXISTS diagnostic_rule_versions;
