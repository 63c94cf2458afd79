-- The update server's status reports (POST /api/v1/updates/status), one row per report.
-- pinline serve runs this with search_path=pinline_updates, so its migration history
-- (pinline_schema_migrations) lives beside the table, apart from any application's own.
CREATE TABLE pinline_updates.update_reports (
  id               bigserial        PRIMARY KEY,
  received_at      timestamptz      NOT NULL DEFAULT now(),
  -- sha256 (hex) of the installation's license key; null when it sent none.
  installation     text             CHECK (installation ~ '^[0-9a-f]{64}$'),
  channel          text             NOT NULL,
  version          text             NOT NULL,
  from_version     text,
  status           text             NOT NULL CHECK (status IN ('completed', 'failed', 'in-progress')),
  reported_at      timestamptz      NOT NULL,
  duration_seconds double precision CHECK (duration_seconds >= 0),
  rolled_back      boolean,
  details          jsonb            NOT NULL DEFAULT '{}'::jsonb
);

-- Statistics pair an installation's terminal report with its in-progress reports of the
-- same version.
CREATE INDEX update_reports_installation_version ON pinline_updates.update_reports (installation, version, reported_at);
