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

/**
 * The database failed: 503, saying only that (its error text may name hosts, roles, tables:
 * the operator's, kept as the cause for the log, never the client's).
 */
function unavailable(error: unknown): ApiError {
  return new ApiError(503, "database_unavailable", "the update server cannot reach its database", {
    hint: "try again later; the report was not stored",
    cause: error,
    retryAfterSeconds: 30,
  });
}

/** A refusal that is the data's (SQLSTATE class 22, 54: a value PostgreSQL cannot store). */
function refusedData(error: unknown): ApiError | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !/^(22|54)/.test(code)) return undefined;
  return new ApiError(400, "invalid_body", "the report cannot be stored as sent", {
    hint: "send text without NUL characters, numbers in range and shallow details",
    cause: error,
  });
}

export interface ReportStoreOptions {
  /** Pool size (default 10). */
  maxConnections?: number;
  /** The time to get a connection, from the pool or a new one (default 2 s). */
  connectTimeoutMs?: number;
  /** The time a query may take, measured by the client (default 5 s): a stalled server too. */
  queryTimeoutMs?: number;
  /** Requests waiting for a connection past which a new one is answered 503 at once (100). */
  maxWaiting?: number;
}

export const REPORT_STORE_DEFAULTS: Required<ReportStoreOptions> = {
  maxConnections: 10,
  connectTimeoutMs: 2_000,
  queryTimeoutMs: 5_000,
  maxWaiting: 100,
};

/**
 * The pool bounds the database's time: connectionTimeoutMillis bounds the wait for a
 * connection (pg-pool: a new one's startup, and the wait in the pool's queue), query_timeout
 * bounds a query on the client's clock (a server stopped with SIGSTOP never answers, so statement_timeout, the
 * server's own clock, cannot), and statement_timeout stops a slow statement on the server.
 * node-postgres destroys a client whose query timed out (pool.query releases it with the error).
 */
export function openReportStore(
  databaseUrl: string,
  options: ReportStoreOptions = {},
): ReportStore {
  const o = { ...REPORT_STORE_DEFAULTS, ...options };
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    application_name: "pinline serve",
    max: o.maxConnections,
    connectionTimeoutMillis: o.connectTimeoutMs,
    query_timeout: o.queryTimeoutMs,
    statement_timeout: o.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
  });
  /** A query; `sent`: its values came from a request, so a data refusal is the client's. */
  const query = async <R extends pg.QueryResultRow>(
    sql: string | pg.QueryConfig,
    values?: unknown[],
    sent = false,
  ) => {
    if (pool.waitingCount >= o.maxWaiting) {
      throw unavailable(new Error(`${pool.waitingCount} requests wait for a database connection`));
    }
    try {
      return await pool.query<R>(sql as string, values);
    } catch (error) {
      throw (sent ? refusedData(error) : undefined) ?? unavailable(error);
    }
  };
  // An idle connection the server drops surfaces here; the next query reports it.
  pool.on("error", () => {});

  return {
    async insert(report) {
      const { rows } = await query<{ id: string }>(
        INSERT_SQL,
        [
          report.installation,
          report.channel,
          report.version,
          report.fromVersion,
          report.status,
          report.reportedAt,
          report.durationSeconds,
          report.rolledBack,
          JSON.stringify(report.details),
        ],
        true,
      );
      return Number(rows[0]?.id);
    },
    async stats() {
      const { rows } = await query<StatsRow>(STATS_SQL);
      return summariseStats(rows);
    },
    async ping() {
      // A readiness probe waits less than a report does (probes time out in seconds).
      // node-postgres reads query_timeout from a query's own config too (lib/client.js).
      const probe = { text: "SELECT 1", query_timeout: Math.min(2_000, o.queryTimeoutMs) };
      await query(probe as pg.QueryConfig);
    },
    async close() {
      await pool.end();
    },
  };
}
