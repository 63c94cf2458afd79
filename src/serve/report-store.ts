/**
 * Where the update server keeps status reports: a pg Pool on pinline_updates.update_reports. One INSERT
 * per report; statistics are one query (update-stats.ts). The server's request path reaches
 * PostgreSQL only here, and the update check never does.
 */
import pg from "pg";
import { ApiError } from "./api-error.js";
import { REPORTS_TABLE } from "./server-schema.js";
import type { StatusReport } from "./status-report.js";
import { STATS_SQL, type StatsRow, summariseStats, type UpdateStats } from "./update-stats.js";

export interface ReportStore {
  /** Stores one report; returns its id. Throws ApiError 503 when the database fails. */
  insert(report: StatusReport): Promise<number>;
  stats(): Promise<UpdateStats>;
  /** Resolves when the database answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const INSERT_SQL = `INSERT INTO ${REPORTS_TABLE}
  (installation, channel, version, from_version, status, reported_at, duration_seconds, rolled_back, details)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`;

function unavailable(error: unknown): ApiError {
  return new ApiError(
    503,
    "database_unavailable",
    `the update server cannot reach its database: ${(error as Error).message}`,
    { hint: "try again later; the report was not stored", cause: error },
  );
}

export function openReportStore(
  databaseUrl: string,
  options: { maxConnections?: number; connectTimeoutMs?: number } = {},
): ReportStore {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    application_name: "pinline serve",
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server drops surfaces here; the next query reports it.
  pool.on("error", () => {});

  return {
    async insert(report) {
      try {
        const { rows } = await pool.query<{ id: string }>(INSERT_SQL, [
          report.installation,
          report.channel,
          report.version,
          report.fromVersion,
          report.status,
          report.reportedAt,
          report.durationSeconds,
          report.rolledBack,
          JSON.stringify(report.details),
        ]);
        return Number(rows[0]?.id);
      } catch (error) {
        throw unavailable(error);
      }
    },
    async stats() {
      try {
        const { rows } = await pool.query<StatsRow>(STATS_SQL);
        return summariseStats(rows);
      } catch (error) {
        throw unavailable(error);
      }
    },
    async ping() {
      await pool.query("SELECT 1");
    },
    async close() {
      await pool.end();
    },
  };
}
