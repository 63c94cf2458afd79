import { describe, expect, it } from "vitest";
import {
  histogramQuantile,
  type MetricsSnapshot,
  ratesBetween,
  readQueryResult,
  readSnapshot,
} from "./metrics-source.js";

/** An exposition as the sample service writes it. */
function exposition(ok: number, errors: number, buckets: number[]): string {
  const bounds = ["0.05", "0.1", "0.2", "0.5", "1", "+Inf"];
  return [
    "# HELP http_requests_total Requests served by CM Diagnostics, by status code.",
    "# TYPE http_requests_total counter",
    `http_requests_total{code="200"} ${ok}`,
    `http_requests_total{code="500"} ${errors}`,
    "# HELP http_request_duration_seconds Time taken to serve a request.",
    "# TYPE http_request_duration_seconds histogram",
    ...bounds.map((le, i) => `http_request_duration_seconds_bucket{le="${le}"} ${buckets[i]}`),
    `http_request_duration_seconds_sum 12.5`,
    `http_request_duration_seconds_count ${buckets[5]}`,
    "# TYPE cm_version_info gauge",
    'cm_version_info{version="2.4.0"} 1',
    "",
  ].join("\n");
}

describe("readSnapshot", () => {
  it("reads the request counter by code and the cumulative buckets", () => {
    expect(readSnapshot(exposition(250, 3, [250, 251, 252, 252, 253, 253]))).toEqual({
      requests: { "200": 250, "500": 3 },
      buckets: [
        { le: 0.05, count: 250 },
        { le: 0.1, count: 251 },
        { le: 0.2, count: 252 },
        { le: 0.5, count: 252 },
        { le: 1, count: 253 },
        { le: Number.POSITIVE_INFINITY, count: 253 },
      ],
    });
  });

  it("sums every other label, keeps labelled histograms apart from each other, and reads the last line without a newline", () => {
    const text = [
      "# TYPE http_requests_total counter",
      'http_requests_total{method="GET",code="200"} 100',
      'http_requests_total{method="POST",code="200"} 20',
      'http_requests_total{method="POST",code="503"} 5 1395066363000',
      "# TYPE http_request_duration_seconds histogram",
      'http_request_duration_seconds_bucket{method="GET",le="0.1"} 90',
      'http_request_duration_seconds_bucket{method="GET",le="+Inf"} 100',
      'http_request_duration_seconds_sum{method="GET"} 4',
      'http_request_duration_seconds_count{method="GET"} 100',
      'http_request_duration_seconds_bucket{method="POST",le="0.1"} 5',
      'http_request_duration_seconds_bucket{method="POST",le="+Inf"} 25',
      'http_request_duration_seconds_sum{method="POST"} 9',
      'http_request_duration_seconds_count{method="POST"} 25',
    ].join("\n");
    expect(readSnapshot(text)).toEqual({
      requests: { "200": 120, "503": 5 },
      buckets: [
        { le: 0.1, count: 95 },
        { le: Number.POSITIVE_INFINITY, count: 125 },
      ],
    });
  });

  it("reads other metric names when told", () => {
    const text = 'app_calls_total{status="500"} 7\napp_latency_seconds_bucket{le="+Inf"} 7\n';
    expect(
      readSnapshot(text, { requests: "app_calls_total", duration: "app_latency_seconds" }),
    ).toEqual({ requests: { "500": 7 }, buckets: [{ le: Number.POSITIVE_INFINITY, count: 7 }] });
  });

  it("says so when the exposition cannot be read", () => {
    expect(() => readSnapshot("# TYPE x counter gauge\n")).toThrow(/cannot read the metrics/);
  });
});

describe("histogramQuantile", () => {
  // The histogram from the Prometheus exposition format documentation.
  const documented = [
    { le: 0.05, count: 24054 },
    { le: 0.1, count: 33444 },
    { le: 0.2, count: 100392 },
    { le: 0.5, count: 129389 },
    { le: 1, count: 133988 },
    { le: Number.POSITIVE_INFINITY, count: 144320 },
  ];
  const cases: {
    name: string;
    q: number;
    buckets: { le: number; count: number }[];
    expected: number | undefined;
  }[] = [
    {
      name: "interpolates inside the bucket holding the rank",
      q: 0.5,
      buckets: documented,
      expected: 0.1 + 0.1 * ((0.5 * 144320 - 33444) / (100392 - 33444)),
    },
    {
      name: "interpolates from 0 in the first bucket",
      q: 0.95,
      buckets: [
        { le: 0.05, count: 100 },
        { le: Number.POSITIVE_INFINITY, count: 100 },
      ],
      expected: 0.0475,
    },
    {
      name: "a rank in the +Inf bucket gives the highest finite bound",
      q: 0.95,
      buckets: documented,
      expected: 1,
    },
    {
      name: "a rank exactly on a bucket's count is that bucket's bound",
      q: 0.5,
      buckets: [
        { le: 0.1, count: 50 },
        { le: 0.2, count: 100 },
        { le: Number.POSITIVE_INFINITY, count: 100 },
      ],
      expected: 0.1,
    },
    {
      name: "counts that fall are made monotonic",
      q: 0.5,
      buckets: [
        { le: 0.1, count: 60 },
        { le: 0.2, count: 40 },
        { le: Number.POSITIVE_INFINITY, count: 100 },
      ],
      expected: 0.1 * (50 / 60),
    },
    {
      name: "unsorted input is sorted",
      q: 0.95,
      buckets: [
        { le: Number.POSITIVE_INFINITY, count: 10 },
        { le: 0.5, count: 10 },
        { le: 0.2, count: 0 },
      ],
      expected: 0.2 + 0.3 * 0.95,
    },
    {
      name: "no observations",
      q: 0.95,
      buckets: [
        { le: 0.1, count: 0 },
        { le: Number.POSITIVE_INFINITY, count: 0 },
      ],
      expected: undefined,
    },
    {
      name: "no +Inf bucket",
      q: 0.95,
      buckets: [
        { le: 0.1, count: 5 },
        { le: 1, count: 10 },
      ],
      expected: undefined,
    },
    {
      name: "only +Inf",
      q: 0.95,
      buckets: [{ le: Number.POSITIVE_INFINITY, count: 5 }],
      expected: undefined,
    },
    { name: "no buckets", q: 0.95, buckets: [], expected: undefined },
    { name: "q out of range", q: 1.5, buckets: documented, expected: undefined },
  ];
  it.each(cases)("$name", ({ q, buckets, expected }) => {
    const actual = histogramQuantile(q, buckets);
    if (expected === undefined) expect(actual).toBeUndefined();
    else expect(actual).toBeCloseTo(expected, 10);
  });
});

describe("ratesBetween", () => {
  const baseline = readSnapshot(exposition(1000, 0, [1000, 1000, 1000, 1000, 1000, 1000]));
  const cases: {
    name: string;
    previous: MetricsSnapshot;
    current: MetricsSnapshot;
    expected: Record<string, number | undefined>;
  }[] = [
    {
      name: "a healthy interval: no errors, ~40 ms",
      previous: baseline,
      current: readSnapshot(exposition(1050, 0, [1050, 1050, 1050, 1050, 1050, 1050])),
      expected: { errorRate: 0, responseTimeP95Ms: 47.5, successRate: 1 },
    },
    {
      name: "a bad interval: 30% errors, all requests between 200 and 500 ms",
      previous: baseline,
      current: readSnapshot(exposition(1035, 15, [1000, 1000, 1000, 1050, 1050, 1050])),
      expected: { errorRate: 0.3, responseTimeP95Ms: 485, successRate: 0.7 },
    },
    {
      name: "only the difference counts, not the totals",
      previous: readSnapshot(exposition(900, 100, [900, 950, 1000, 1000, 1000, 1000])),
      current: readSnapshot(exposition(1000, 100, [1000, 1050, 1100, 1100, 1100, 1100])),
      expected: { errorRate: 0, responseTimeP95Ms: 47.5, successRate: 1 },
    },
    {
      name: "no traffic in the interval",
      previous: baseline,
      current: baseline,
      expected: { errorRate: undefined, responseTimeP95Ms: undefined, successRate: undefined },
    },
    {
      name: "a restarted service (counters reset): the new counts are the interval",
      previous: baseline,
      current: readSnapshot(exposition(9, 1, [10, 10, 10, 10, 10, 10])),
      expected: { errorRate: 0.1, responseTimeP95Ms: 47.5, successRate: 0.9 },
    },
    {
      name: "without a histogram there is no p95",
      previous: { requests: { "200": 10 }, buckets: [] },
      current: { requests: { "200": 15, "502": 5 }, buckets: [] },
      expected: { errorRate: 0.5, responseTimeP95Ms: undefined, successRate: 0.5 },
    },
  ];
  it.each(cases)("$name", ({ previous, current, expected }) => {
    const actual = ratesBetween(previous, current);
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, value] of Object.entries(expected)) {
      if (value === undefined) expect(actual[name], name).toBeUndefined();
      else expect(actual[name], name).toBeCloseTo(value, 9);
    }
  });
});

describe("readQueryResult", () => {
  const cases: { name: string; data: unknown; expected: number | undefined }[] = [
    {
      name: "a scalar",
      data: { resultType: "scalar", result: [1700000000, "0.25"] },
      expected: 0.25,
    },
    {
      name: "a vector of one sample",
      data: { resultType: "vector", result: [{ metric: {}, value: [1700000000, "47.5"] }] },
      expected: 47.5,
    },
    {
      name: "an empty vector is no data",
      data: { resultType: "vector", result: [] },
      expected: undefined,
    },
    {
      name: "NaN is no data",
      data: { resultType: "vector", result: [{ metric: {}, value: [1700000000, "NaN"] }] },
      expected: undefined,
    },
    {
      name: "+Inf is a number",
      data: { resultType: "scalar", result: [1700000000, "+Inf"] },
      expected: Number.POSITIVE_INFINITY,
    },
  ];
  it.each(cases)("$name", ({ data, expected }) => {
    expect(readQueryResult("errorRate", "q", { status: "success", data } as never)).toBe(expected);
  });

  it("refuses a vector of several series, naming the query", () => {
    const data = {
      resultType: "vector",
      result: [
        { metric: { code: "200" }, value: [1, "1"] },
        { metric: { code: "500" }, value: [1, "2"] },
      ],
    };
    expect(() =>
      readQueryResult("errorRate", "rate(http_requests_total[1m])", { status: "success", data }),
    ).toThrow(
      "Prometheus query errorRate (rate(http_requests_total[1m])) returned 2 series; aggregate it to one, e.g. with sum(...)",
    );
  });

  it("refuses a range vector", () => {
    expect(() =>
      readQueryResult("successRate", "up[1m]", {
        status: "success",
        data: { resultType: "matrix", result: [] },
      }),
    ).toThrow(/successRate \(up\[1m\]\) returned a matrix result/);
  });
});
