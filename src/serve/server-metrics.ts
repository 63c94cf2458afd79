/**
 * GET /metrics of the update server, in a prom-client registry of its own.
 *
 * pinline_serve_*: the server itself — requests by route, method and status (a histogram of
 * durations whose _count is the request count), the feed version it serves, failed reloads,
 * open event streams, whether its database answered the last scrape.
 *
 * pinline_installation_*: the specification's update analytics (section 7.2) from the status
 * reports installations sent, counted by SQL at scrape time (update-stats.ts), by channel.
 * They are distinct from the deploy metrics (pinline_update_*, src/notify/update-metrics.ts):
 * those count deploys of environments, these count installations updating themselves.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { UpdateFigures, UpdateStats } from "./update-stats.js";

export const SERVER_METRIC_NAMES = {
  requestDuration: "pinline_serve_http_request_duration_seconds",
  feedVersion: "pinline_serve_feed_version",
  feedReloadFailures: "pinline_serve_feed_reload_failures_total",
  eventSubscribers: "pinline_serve_event_subscribers",
  databaseUp: "pinline_serve_database_up",
  feedExpires: "pinline_serve_feed_expires_timestamp_seconds",
  answerCacheEntries: "pinline_serve_answer_cache_entries",
  answerCacheBytes: "pinline_serve_answer_cache_bytes",
} as const;

/** The installation figures, by channel (the dashboard's "Installations" row). */
export const INSTALLATION_METRIC_NAMES = {
  reports: "pinline_installation_reports_total",
  attempts: "pinline_installation_attempts_total",
  success: "pinline_installation_success_total",
  failures: "pinline_installation_failures_total",
  rollbacks: "pinline_installation_rollbacks_total",
  updateSeconds: "pinline_installation_update_seconds_total",
  timedUpdates: "pinline_installation_timed_updates_total",
} as const;

export interface ServerMetricsSource {
  feedVersion(): number;
  /** When the feed in service expires, ms since the epoch. */
  feedExpiresAt(): number;
  /** The update-check memo's size. */
  answerCache(): { entries: number; bytes: number };
  eventSubscribers(): number;
  /** The stored reports' figures; rejects when the database does not answer. */
  stats(): Promise<UpdateStats>;
}

export interface ServerMetrics {
  registry: Registry;
  /** Records one answered request. */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  feedReloadFailed(): void;
}

/** A request takes well under a millisecond on the hot path; 0.1 ms to 2.5 s. */
const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
];

export function createServerMetrics(source: ServerMetricsSource): ServerMetrics {
  const registry = new Registry();
  const requestDuration = new Histogram({
    name: SERVER_METRIC_NAMES.requestDuration,
    help: "Requests the update server answered, by route, method and status, and how long each took",
    labelNames: ["route", "method", "status"],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: SERVER_METRIC_NAMES.feedVersion,
    help: "The version of the verified feed (its timestamp metadata) the server answers from",
    registers: [registry],
    collect() {
      this.set(source.feedVersion());
    },
  });
  new Gauge({
    name: SERVER_METRIC_NAMES.feedExpires,
    help: "When the feed in service expires (Unix seconds): from then on checks answer 503; alert well before",
    registers: [registry],
    collect() {
      this.set(Math.floor(source.feedExpiresAt() / 1000));
    },
  });
  new Gauge({
    name: SERVER_METRIC_NAMES.answerCacheEntries,
    help: "Update-check answers memoised for the feed in service (bounded)",
    registers: [registry],
    collect() {
      this.set(source.answerCache().entries);
    },
  });
  new Gauge({
    name: SERVER_METRIC_NAMES.answerCacheBytes,
    help: "Bytes the memoised update-check answers take, keys included (bounded)",
    registers: [registry],
    collect() {
      this.set(source.answerCache().bytes);
    },
  });
  const reloadFailures = new Counter({
    name: SERVER_METRIC_NAMES.feedReloadFailures,
    help: "Feed reloads that failed (the server kept the feed it had)",
    registers: [registry],
  });
  new Gauge({
    name: SERVER_METRIC_NAMES.eventSubscribers,
    help: "Open event streams (GET /api/v1/updates/events)",
    registers: [registry],
    collect() {
      this.set(source.eventSubscribers());
    },
  });

  // One query per scrape: every collect() below shares the one in flight.
  let pending: Promise<UpdateStats | undefined> | undefined;
  const figures = () => {
    pending ??= source
      .stats()
      .catch(() => undefined)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  new Gauge({
    name: SERVER_METRIC_NAMES.databaseUp,
    help: "1 when the database answered this scrape's statistics query, else 0",
    registers: [registry],
    async collect() {
      this.set((await figures()) ? 1 : 0);
    },
  });
  const byChannel = (
    name: string,
    help: string,
    value: (figures: UpdateFigures) => number,
  ): void => {
    new Counter({
      name,
      help,
      labelNames: ["channel"],
      registers: [registry],
      async collect() {
        const stats = await figures();
        this.reset();
        for (const [channel, f] of Object.entries(stats?.byChannel ?? {})) {
          this.inc({ channel }, value(f));
        }
      },
    });
  };
  new Counter({
    name: INSTALLATION_METRIC_NAMES.reports,
    help: "Status reports installations sent, by channel and status",
    labelNames: ["channel", "status"],
    registers: [registry],
    async collect() {
      const stats = await figures();
      this.reset();
      for (const [channel, f] of Object.entries(stats?.byChannel ?? {})) {
        this.inc({ channel, status: "completed" }, f.completed);
        this.inc({ channel, status: "failed" }, f.failed);
        this.inc({ channel, status: "in-progress" }, f.inProgress);
      }
    },
  });
  byChannel(
    INSTALLATION_METRIC_NAMES.attempts,
    "Update attempts installations reported: status completed or failed",
    (f) => f.attempts,
  );
  byChannel(
    INSTALLATION_METRIC_NAMES.success,
    "Updates installations reported completed",
    (f) => f.completed,
  );
  byChannel(
    INSTALLATION_METRIC_NAMES.failures,
    "Updates installations reported failed",
    (f) => f.failed,
  );
  byChannel(
    INSTALLATION_METRIC_NAMES.rollbacks,
    "Failed updates installations reported rolled back",
    (f) => f.rollbacks,
  );
  byChannel(
    INSTALLATION_METRIC_NAMES.updateSeconds,
    "Seconds the timed completed updates took, summed (divide by timed updates for the average)",
    (f) => f.updateSecondsTotal,
  );
  byChannel(
    INSTALLATION_METRIC_NAMES.timedUpdates,
    "Completed updates whose time is known (a duration, or in-progress and completed reports)",
    (f) => f.timedUpdates,
  );

  const children = new Map<string, { observe(seconds: number): void }>();
  return {
    registry,
    observeRequest(route, method, status, seconds) {
      const key = `${route} ${method} ${status}`;
      let child = children.get(key);
      if (!child) {
        child = requestDuration.labels({ route, method, status });
        children.set(key, child);
      }
      child.observe(seconds);
    },
    feedReloadFailed() {
      reloadFailures.inc();
    },
  };
}
