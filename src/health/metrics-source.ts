/**
 * Where the canary metrics come from (DESIGN §1 environment `health`): the environment's
 * Prometheus, through the queries its pin names, or, without a Prometheus, the service's own
 * /metrics scraped twice and compared. Either way one round gives one number per criterion
 * (errorRate, responseTimeP95Ms, successRate), or undefined where there is no data.
 *
 * Every read is bounded (DESIGN §6, bounded in every resource): one timeout covers the request
 * and the whole body, and at most MAX_SCRAPE_BYTES of a /metrics page and
 * MAX_PROMETHEUS_ANSWER_BYTES of a Prometheus answer are read; the body is streamed and
 * cancelled once over the cap, so an endless or trickling answer is a clear error (the
 * measurement is inconclusive), never an out-of-memory or a hung deploy.
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { PinlineError } from "../core/errors.js";
import { describeFetchError } from "./probe-http.js";

export type MetricValues = Record<string, number | undefined>;

export interface MetricsSource {
  /** For reports: "Prometheus at https://prometheus.example.com". */
  describe: string;
  /**
   * Called once before the first measurement interval. A source that measures differences
   * (scrapeSource) takes its baseline here; the others need not have it.
   */
  start?(): Promise<void>;
  /** One round of values. Throws when the source cannot be read or a query is wrong. */
  measure(): Promise<MetricValues>;
}

/** Per request, headers and body together, unless the caller says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The most of a /metrics page a scrape reads: 4 MiB. A service's own exposition is typically
 * tens of kilobytes; Prometheus itself warns about pages this large. Over it, the measurement
 * is inconclusive.
 */
export const MAX_SCRAPE_BYTES = 4 * 1024 * 1024;

/** The most of a Prometheus answer read: 1 MiB. An instant query of one number is ~100 bytes. */
export const MAX_PROMETHEUS_ANSWER_BYTES = 1024 * 1024;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** "4 MiB", "64 KiB", "512 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

interface Answer {
  ok: boolean;
  status: number;
  statusText: string;
  /** The body as text, or "" when it was not read (readBody: false). */
  text: string;
}

interface GetOptions {
  timeoutMs: number;
  accept: string;
  maxBytes: number;
  /** Read the body of an error answer too (Prometheus explains its errors in it). */
  readErrorBody: boolean;
  /** How the message names what answered: "http://svc/metrics", "Prometheus at …". */
  what: string;
  /** What to do when the answer is over the cap, appended to the message. */
  tooLarge: string;
}

function timedOut(error: unknown): boolean {
  return (error as { name?: string })?.name === "TimeoutError";
}

/**
 * GETs `url` and reads at most `maxBytes` of its body, all within `timeoutMs`. Throws
 * PinlineError: cannot reach, timed out (headers or body), or more than `maxBytes`.
 */
async function get(url: string, options: GetOptions): Promise<Answer> {
  const { timeoutMs, maxBytes } = options;
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: options.accept }, signal });
  } catch (error) {
    const what = timedOut(error) ? `timed out after ${timeoutMs} ms` : describeFetchError(error);
    throw new PinlineError(`cannot reach ${url}: ${what}`, { cause: error });
  }
  const answer = { ok: response.ok, status: response.status, statusText: response.statusText };
  const body = response.body;
  if (!body || (!response.ok && !options.readErrorBody)) {
    await body?.cancel().catch(() => undefined);
    return { ...answer, text: "" };
  }
  const over = () =>
    new PinlineError(
      `${options.what} answered more than ${formatBytes(maxBytes)}: ${options.tooLarge}`,
    );
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await body.cancel().catch(() => undefined);
    throw over();
  }
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw over();
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (error instanceof PinlineError) throw error;
    const what = timedOut(error)
      ? `timed out after ${timeoutMs} ms (${formatBytes(size)} read)`
      : describeFetchError(error);
    throw new PinlineError(`reading the answer of ${url} failed: ${what}`, { cause: error });
  }
  return { ...answer, text: text + decoder.decode() };
}

// --- Prometheus ----------------------------------------------------------------------------

export interface PrometheusQueries {
  errorRate?: string | undefined;
  responseTimeP95Ms?: string | undefined;
  successRate?: string | undefined;
}

export interface PrometheusSourceOptions {
  /** The Prometheus server (health.prometheus.url); a path prefix is kept. */
  url: string;
  /** PromQL by criterion; each must return one number (a scalar or a one-sample vector). */
  queries: PrometheusQueries;
  /** Per query, answer included (default 10 s). */
  timeoutMs?: number | undefined;
  /** The most of an answer read (default MAX_PROMETHEUS_ANSWER_BYTES). */
  maxBytes?: number | undefined;
}

interface PrometheusAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/** A PromQL sample value ("0.01", "NaN", "+Inf") as a number; NaN means no data. */
function sampleValue(pair: unknown): number | undefined {
  const text = Array.isArray(pair) ? pair[1] : undefined;
  if (typeof text !== "string") return undefined;
  const value = parseNumber(text);
  return Number.isNaN(value) ? undefined : value;
}

/**
 * The number a query's answer holds: a scalar, or a vector of exactly one sample. An empty
 * vector or NaN is no data (undefined). Anything else is an error: the query must be fixed.
 */
export function readQueryResult(
  name: string,
  query: string,
  answer: PrometheusAnswer,
): number | undefined {
  const data = answer.data;
  const fail = (problem: string) =>
    new PinlineError(`Prometheus query ${name} (${query}) ${problem}`, {
      hint: `health.prometheus.${name} must return one number`,
    });
  if (data?.resultType === "scalar") return sampleValue(data.result);
  if (data?.resultType === "vector" && Array.isArray(data.result)) {
    if (data.result.length === 0) return undefined;
    if (data.result.length > 1) {
      throw fail(`returned ${data.result.length} series; aggregate it to one, e.g. with sum(...)`);
    }
    return sampleValue((data.result[0] as { value?: unknown })?.value);
  }
  throw fail(`returned a ${data?.resultType ?? "malformed"} result, not a scalar or vector`);
}

/**
 * Runs each configured query as an instant query (`GET <url>/api/v1/query?query=...`), all at
 * once. An HTTP error or a Prometheus error throws, naming the query and Prometheus's `error`.
 */
export function prometheusSource(options: PrometheusSourceOptions): MetricsSource {
  const base = trimSlash(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_PROMETHEUS_ANSWER_BYTES;
  const queries = Object.entries(options.queries).filter(
    (entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== "",
  );

  async function run(name: string, query: string): Promise<number | undefined> {
    const url = `${base}/api/v1/query?query=${encodeURIComponent(query)}`;
    const response = await get(url, {
      timeoutMs,
      accept: "application/json",
      maxBytes,
      readErrorBody: true,
      what: `Prometheus at ${base} (query ${name})`,
      tooLarge: `an instant query must answer one number; aggregate health.prometheus.${name} (sum(...))`,
    });
    const text = response.text;
    let answer: PrometheusAnswer | undefined;
    try {
      answer = JSON.parse(text) as PrometheusAnswer;
    } catch {
      answer = undefined;
    }
    if (!response.ok || answer?.status !== "success") {
      const why = answer?.error
        ? `${answer.errorType ? `${answer.errorType}: ` : ""}${answer.error}`
        : `${response.status} ${response.statusText}: ${text.slice(0, 200).trim()}`;
      throw new PinlineError(`Prometheus query ${name} (${query}) failed: ${why}`, {
        hint: `check health.prometheus.${name} and ${base}`,
      });
    }
    return readQueryResult(name, query, answer);
  }

  return {
    describe: `Prometheus at ${base}`,
    async measure() {
      const values = await Promise.all(queries.map(([name, query]) => run(name, query)));
      return Object.fromEntries(queries.map(([name], i) => [name, values[i]]));
    },
  };
}

// --- scraping /metrics ---------------------------------------------------------------------

/** What one scrape of a service's /metrics says about its requests so far (cumulative). */
export interface MetricsSnapshot {
  /** Requests by status code ("200", "500"), summed over every other label. */
  requests: Record<string, number>;
  /** The duration histogram's cumulative buckets, upper bound in seconds (+Inf included), sorted. */
  buckets: { le: number; count: number }[];
}

export interface MetricNames {
  /** Counter of requests with a `code` (or `status`) label (default http_requests_total). */
  requests?: string | undefined;
  /** Histogram of request durations in seconds (default http_request_duration_seconds). */
  duration?: string | undefined;
}

const DEFAULT_NAMES = {
  requests: "http_requests_total",
  duration: "http_request_duration_seconds",
};

function parseNumber(text: string | undefined): number {
  if (text === undefined) return Number.NaN;
  const lower = text.trim().toLowerCase();
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * Reads a text exposition into a snapshot. parse-prometheus-text-format reads the samples, but
 * it flattens a histogram family into one entry (keeping only the last label set and dropping
 * labelled _sum/_count), so histogram TYPE lines are removed first: the `_bucket` series then
 * come through as plain samples, each with its `le` label, and are summed here.
 */
export function readSnapshot(text: string, names: MetricNames = {}): MetricsSnapshot {
  const requestsName = names.requests ?? DEFAULT_NAMES.requests;
  const bucketName = `${names.duration ?? DEFAULT_NAMES.duration}_bucket`;
  // The parser drops the last sample of a text without a final newline.
  const prepared = `${text.replace(/^#[ \t]+TYPE[ \t]+\S+[ \t]+(histogram|summary)[ \t]*$/gim, "")}\n`;
  let families: parsePrometheusTextFormat.MetricFamily[];
  try {
    families = parsePrometheusTextFormat(prepared);
  } catch (error) {
    throw new PinlineError(
      `cannot read the metrics exposition: ${error instanceof Error ? error.message : error}`,
      { cause: error },
    );
  }
  const requests: Record<string, number> = {};
  const buckets = new Map<number, number>();
  for (const family of families) {
    if (family.name !== requestsName && family.name !== bucketName) continue;
    for (const sample of family.metrics) {
      const value = parseNumber(sample.value);
      if (!Number.isFinite(value)) continue;
      const labels = sample.labels ?? {};
      if (family.name === requestsName) {
        const code = labels.code ?? labels.status ?? labels.status_code ?? "unknown";
        requests[code] = (requests[code] ?? 0) + value;
      } else {
        const le = parseNumber(labels.le);
        if (Number.isNaN(le)) continue;
        buckets.set(le, (buckets.get(le) ?? 0) + value);
      }
    }
  }
  return {
    requests,
    buckets: [...buckets].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
  };
}

/**
 * The q-quantile of a cumulative histogram, as PromQL's histogram_quantile estimates it: find
 * the bucket holding the rank q·total and interpolate linearly inside it (from 0 for the first
 * bucket); a rank in the +Inf bucket gives the highest finite bound. Undefined without a +Inf
 * bucket, with fewer than two buckets, or without observations.
 */
export function histogramQuantile(
  q: number,
  cumulative: readonly { le: number; count: number }[],
): number | undefined {
  if (!(q >= 0 && q <= 1)) return undefined;
  const buckets = [...cumulative].sort((a, b) => a.le - b.le);
  const last = buckets.at(-1);
  if (!last || last.le !== Number.POSITIVE_INFINITY || buckets.length < 2) return undefined;
  // Counts must not fall as the bound rises (Prometheus fixes it the same way).
  let highest = 0;
  const counts = buckets.map(({ count }) => {
    highest = Math.max(highest, count);
    return highest;
  });
  const total = counts.at(-1) as number;
  if (total <= 0) return undefined;
  let rank = q * total;
  const b = counts.findIndex((count) => count >= rank);
  if (b === buckets.length - 1) return (buckets[b - 1] as { le: number }).le;
  const end = (buckets[b] as { le: number }).le;
  if (b === 0 && end <= 0) return end;
  let start = 0;
  let inBucket = counts[b] as number;
  if (b > 0) {
    start = (buckets[b - 1] as { le: number }).le;
    inBucket -= counts[b - 1] as number;
    rank -= counts[b - 1] as number;
  }
  if (inBucket <= 0) return end;
  return start + (end - start) * (rank / inBucket);
}

/** A counter's increase; a counter that went down was reset, so all of it is new. */
function increase(previous: number | undefined, current: number): number {
  if (previous === undefined || current < previous) return current;
  return current - previous;
}

/**
 * The canary values of the interval between two snapshots: errorRate = Δ5xx / Δrequests,
 * successRate = 1 − errorRate, responseTimeP95Ms = the p95 of the histogram's increase × 1000.
 * No requests in the interval (or no histogram) gives undefined for what cannot be computed.
 */
export function ratesBetween(previous: MetricsSnapshot, current: MetricsSnapshot): MetricValues {
  let total = 0;
  let errors = 0;
  for (const [code, count] of Object.entries(current.requests)) {
    const delta = increase(previous.requests[code], count);
    total += delta;
    if (code.startsWith("5")) errors += delta;
  }
  const errorRate = total > 0 ? errors / total : undefined;

  const before = new Map(previous.buckets.map(({ le, count }) => [le, count]));
  const infinity = (s: MetricsSnapshot) =>
    s.buckets.find((b) => b.le === Number.POSITIVE_INFINITY)?.count;
  const reset = (infinity(current) ?? 0) < (infinity(previous) ?? 0);
  const deltas = current.buckets.map(({ le, count }) => ({
    le,
    count: reset ? count : Math.max(0, count - (before.get(le) ?? 0)),
  }));
  const p95 = histogramQuantile(0.95, deltas);

  return {
    errorRate,
    responseTimeP95Ms: p95 === undefined ? undefined : p95 * 1000,
    successRate: errorRate === undefined ? undefined : 1 - errorRate,
  };
}

export interface ScrapeSourceOptions {
  /** The service's Prometheus endpoint, such as http://127.0.0.1:8080/metrics. */
  metricsUrl: string;
  /** Per scrape, body included (default 10 s). */
  timeoutMs?: number | undefined;
  /** The most of a page read (default MAX_SCRAPE_BYTES). */
  maxBytes?: number | undefined;
  names?: MetricNames | undefined;
}

/**
 * Scrapes the service's /metrics and reports the interval since the previous scrape.
 * The first scrape (start(), or the first measure() when start() was not called) is the
 * baseline: measure() then returns undefined values, which judge as inconclusive.
 */
export function scrapeSource(options: ScrapeSourceOptions): MetricsSource {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? MAX_SCRAPE_BYTES;
  let previous: MetricsSnapshot | undefined;

  async function scrape(): Promise<MetricsSnapshot> {
    const response = await get(options.metricsUrl, {
      timeoutMs,
      accept: "text/plain;version=0.0.4;q=1, */*;q=0.1",
      maxBytes,
      readErrorBody: false,
      what: options.metricsUrl,
      tooLarge: `pinline reads at most ${formatBytes(maxBytes)} of a /metrics page; serve fewer series at health.metrics, or query a Prometheus (health.prometheus)`,
    });
    const text = response.text;
    if (!response.ok) {
      throw new PinlineError(
        `scraping ${options.metricsUrl} failed: ${response.status} ${response.statusText}`,
      );
    }
    return readSnapshot(text, options.names);
  }

  return {
    describe: `scraping ${options.metricsUrl}`,
    async start() {
      previous = await scrape();
    },
    async measure() {
      const current = await scrape();
      const values: MetricValues = previous
        ? ratesBetween(previous, current)
        : { errorRate: undefined, responseTimeP95Ms: undefined, successRate: undefined };
      previous = current;
      return values;
    },
  };
}
