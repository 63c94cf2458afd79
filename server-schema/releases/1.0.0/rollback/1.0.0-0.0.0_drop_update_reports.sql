-- Undoes 0.0.0-1.0.0_update_reports.sql: the stored reports are lost.
DROP TABLE pinline_updates.update_reports;
