/**
 * The specification's update analytics (section 7) from the stored status reports, computed by
 * SQL at the moment they are asked for (GET /api/v1/updates/stats and each /metrics scrape).
 *
 * - an attempt is a report whose status is completed or failed (in-progress reports are not
 *   attempts: they only time the update, below);
 * - success rate = completed reports / attempts;
 * - rollback rate = failed reports whose details.rolledBack is true / attempts;
 * - update time of a completed report = its details.durationSeconds; when it has none, the time
 *   from the same installation's first in-progress report of the same version since its
 *   previous terminal report of that version, to this report (by the reports' timestamps). A
 *   completed report with neither (no duration, no key to pair reports by, no in-progress
 *   report) is not timed; average update time = the mean over the timed completed reports.
 * Rates and averages are null when there is nothing to divide by. No stored value can break
 * them: a duration outside 0 to 30 days (which the request schema refuses, and rows stored
 * before it did may hold) counts as no duration, and sums are numeric, which cannot overflow.
 */
import { REPORTS_TABLE } from "./server-schema.js";
import { MAX_DURATION_SECONDS } from "./status-report.js";

/** The figures of one group of reports (all of them, a channel, a version). */
export interface UpdateFigures {
  /** Every report stored, in-progress included. */
  reports: number;
  inProgress: number;
  /** Reports with status completed or failed. */
  attempts: number;
  completed: number;
  failed: number;
  /** Failed reports with details.rolledBack true. */
  rollbacks: number;
  /** completed / attempts. */
  successRate: number | null;
  /** rollbacks / attempts. */
  rollbackRate: number | null;
  /** The mean update time of the timed completed reports, seconds. */
  averageUpdateSeconds: number | null;
  /** How many completed reports have an update time, and their sum. */
  timedUpdates: number;
  updateSecondsTotal: number;
}

/** GET /api/v1/updates/stats. */
export interface UpdateStats extends UpdateFigures {
  /** Every report stored (the same as `reports`). */
  total: number;
  byChannel: Record<string, UpdateFigures>;
  byVersion: Record<string, UpdateFigures>;
}

/** One row of STATS_SQL: the counts of one grouping set. */
export interface StatsRow {
  /** "all", "channel" or "version". */
  grouping: string;
  key: string | null;
  reports: string | number;
  in_progress: string | number;
  completed: string | number;
  failed: string | number;
  rollbacks: string | number;
  timed: string | number;
  seconds: string | number | null;
}

/**
 * The counts by channel, by version and over everything, in one scan. The update time of a
 * completed report without a duration pairs it with the installation's in-progress reports
 * of the same version after its previous terminal report (the index on
 * (installation, version, reported_at) serves both look-ups).
 */
export const STATS_SQL = `
WITH timed AS (
  SELECT r.channel, r.version, r.status, r.rolled_back,
         CASE WHEN r.status = 'completed' THEN coalesce(
           CASE WHEN r.duration_seconds BETWEEN 0 AND ${MAX_DURATION_SECONDS}
                THEN r.duration_seconds::numeric END, (
           SELECT date_part('epoch', r.reported_at - min(p.reported_at))
             FROM ${REPORTS_TABLE} p
            WHERE r.installation IS NOT NULL
              AND p.installation = r.installation AND p.version = r.version
              AND p.status = 'in-progress' AND p.reported_at <= r.reported_at
              AND p.reported_at > coalesce((
                    SELECT max(t.reported_at) FROM ${REPORTS_TABLE} t
                     WHERE t.installation = r.installation AND t.version = r.version
                       AND t.status IN ('completed', 'failed')
                       AND t.reported_at < r.reported_at), '-infinity'::timestamptz))::numeric)
         END AS seconds
    FROM ${REPORTS_TABLE} r
)
SELECT CASE WHEN grouping(channel) = 0 THEN 'channel'
            WHEN grouping(version) = 0 THEN 'version' ELSE 'all' END AS grouping,
       coalesce(channel, version) AS key,
       count(*) AS reports,
       count(*) FILTER (WHERE status = 'in-progress') AS in_progress,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'failed' AND rolled_back) AS rollbacks,
       count(seconds) AS timed,
       sum(seconds) AS seconds
  FROM timed
 GROUP BY GROUPING SETS ((channel), (version), ())`;

function figuresOf(row: StatsRow | undefined): UpdateFigures {
  const n = (value: string | number | null | undefined) => Number(value ?? 0);
  const completed = n(row?.completed);
  const failed = n(row?.failed);
  const rollbacks = n(row?.rollbacks);
  const timedUpdates = n(row?.timed);
  const updateSecondsTotal = n(row?.seconds);
  const attempts = completed + failed;
  const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
  return {
    reports: n(row?.reports),
    inProgress: n(row?.in_progress),
    attempts,
    completed,
    failed,
    rollbacks,
    successRate: ratio(completed, attempts),
    rollbackRate: ratio(rollbacks, attempts),
    averageUpdateSeconds: ratio(updateSecondsTotal, timedUpdates),
    timedUpdates,
    updateSecondsTotal,
  };
}

/** The answer of GET /api/v1/updates/stats from the rows of STATS_SQL. */
export function summariseStats(rows: readonly StatsRow[]): UpdateStats {
  const overall = figuresOf(rows.find((row) => row.grouping === "all"));
  const group = (grouping: string) =>
    Object.fromEntries(
      rows
        .filter((row) => row.grouping === grouping && row.key !== null)
        .map((row) => [row.key as string, figuresOf(row)] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  return {
    total: overall.reports,
    ...overall,
    byChannel: group("channel"),
    byVersion: group("version"),
  };
}
