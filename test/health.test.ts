import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CanaryCriteria } from "../src/core/evaluate-canary.js";
import { prometheusSource, scrapeSource } from "../src/health/metrics-source.js";
import { probeHttp } from "../src/health/probe-http.js";
import { runHealthCheck } from "../src/health/run-health-check.js";
import { repoRoot } from "./harness/example-repo.js";

/**
 * The health step against the real sample service (examples/cm-service) started as a child
 * process, and, where the `prometheus` binary is installed, against a real Prometheus scraping it.
 */
const serverScript = join(repoRoot, "examples/cm-service/server.mjs");
const setVersionScript = join(repoRoot, "examples/cm-service/set-version.mjs");

const criteria: CanaryCriteria = {
  errorRate: { max: 0.01 },
  responseTimeP95Ms: { max: 200 },
  successRate: { min: 0.99 },
};
const probe = { timeoutMs: 2000, retries: 1, intervalMs: 100 };

interface Service {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

const running = new Set<Service>();

/** Starts the sample service and waits for its `{"url": ...}` line. */
async function startService(...args: string[]): Promise<Service> {
  const child = spawn(process.execPath, [serverScript, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(
      () => reject(new Error(`cm-service did not start: ${stderr}`)),
      10_000,
    );
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
      const line = stdout.split("\n")[0] as string;
      if (stdout.includes("\n")) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`cm-service exited with ${code}: ${stderr}`));
    });
  });
  const service: Service = {
    url,
    port: Number(new URL(url).port),
    process: child,
    async stop() {
      running.delete(service);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
  running.add(service);
  return service;
}

afterAll(async () => {
  await Promise.all([...running].map((s) => s.stop()));
});

/** What a deploy does: switch the running version (set-version.mjs is tested on its own). */
async function switchVersion(service: Service, version: string): Promise<void> {
  const response = await fetch(`${service.url}/admin/version`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ version }),
  });
  expect(response.status).toBe(200);
  await response.body?.cancel();
}

function runNode(script: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      out += c;
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("the sample service", () => {
  it("serves health, metrics and its version, and stops cleanly on SIGTERM", async () => {
    const service = await startService("--version", "2.4.0");
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok", version: "2.4.0" });
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    await delay(250);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^http_requests_total\{code="200"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^http_requests_total\{code="500"\} 0$/m);
    expect(metrics).toMatch(/^http_request_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
    expect(metrics).toContain('cm_version_info{version="2.4.0"} 1');
    expect((await fetch(`${service.url}/nope`)).status).toBe(404);
    const exit = new Promise((resolve) => service.process.once("exit", (code) => resolve(code)));
    await service.stop();
    expect(await exit).toBe(0);
  });

  it("switches versions through /admin/version", async () => {
    const service = await startService("--version", "2.4.0", "--unready-versions", "2.4.3");
    const post = (body: string) =>
      fetch(`${service.url}/admin/version`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const switched = await post(JSON.stringify({ version: "2.4.1" }));
    expect(switched.status).toBe(200);
    expect(await switched.json()).toEqual({ version: "2.4.1", previous: "2.4.0" });
    expect(await (await fetch(`${service.url}/admin/version`)).json()).toEqual({
      version: "2.4.1",
    });
    expect(await (await fetch(`${service.url}/health/ready`)).json()).toMatchObject({
      version: "2.4.1",
    });
    expect((await post('{"version":"two"}')).status).toBe(400);
    expect((await post("not json")).status).toBe(400);

    await post(JSON.stringify({ version: "2.4.3" }));
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(503);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(503);
    await service.stop();
  });

  it("set-version.mjs switches the version, and fails with a message when it cannot", async () => {
    const service = await startService("--version", "2.4.0");
    const ok = await runNode(setVersionScript, [`${service.url}/`, "2.4.1"]);
    expect(ok).toEqual({ code: 0, out: `${service.url}/ now runs 2.4.1 (was 2.4.0)\n` });
    expect(await (await fetch(`${service.url}/admin/version`)).json()).toEqual({
      version: "2.4.1",
    });

    const refused = await runNode(setVersionScript, [service.url, "2.4"]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('400 Bad Request: "2.4" is not a version');

    const usage = await runNode(setVersionScript, [service.url]);
    expect(usage.code).toBe(2);
    expect(usage.out).toContain("usage: set-version.mjs <url> <version>");

    await service.stop();
    const gone = await runNode(setVersionScript, [service.url, "2.4.2"]);
    expect(gone.code).toBe(1);
    expect(gone.out).toContain("cannot reach");
    expect(gone.out).toContain("ECONNREFUSED");
  });
});

describe("probeHttp", () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let silentUrl: string;

  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address() as { port: number };
    silentUrl = `http://127.0.0.1:${address.port}/health/ready`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it("reports a 2xx on the first attempt", async () => {
    const service = await startService("--version", "2.4.0");
    const result = await probeHttp({ url: `${service.url}/health/live`, ...probe });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 1, reason: "200 OK" });
    await service.stop();
  });

  it("retries a 503 and says how often", async () => {
    const service = await startService("--version", "2.4.3", "--unready-versions", "2.4.3");
    const result = await probeHttp({
      url: `${service.url}/health/ready`,
      timeoutMs: 1000,
      retries: 2,
      intervalMs: 50,
    });
    expect(result).toMatchObject({
      ok: false,
      status: 503,
      attempts: 3,
      reason: "503 Service Unavailable after 3 attempts",
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(100);
    await service.stop();
  });

  it("succeeds once the service becomes ready between attempts", async () => {
    const service = await startService("--version", "2.4.3", "--unready-versions", "2.4.3");
    const probing = probeHttp({
      url: `${service.url}/health/ready`,
      timeoutMs: 1000,
      retries: 20,
      intervalMs: 50,
    });
    await delay(120);
    await switchVersion(service, "2.4.1");
    const result = await probing;
    expect(result.ok).toBe(true);
    expect(result.attempts).toBeGreaterThan(1);
    expect(result.reason).toMatch(/^200 OK after \d+ attempts$/);
    await service.stop();
  });

  it("names a refused connection", async () => {
    const service = await startService();
    const url = `${service.url}/health/ready`;
    await service.stop();
    const result = await probeHttp({ url, timeoutMs: 500, retries: 1, intervalMs: 10 });
    expect(result).toMatchObject({
      ok: false,
      status: undefined,
      attempts: 2,
      reason: "connection refused (2 attempts)",
    });
  });

  it("times out a service that does not answer", async () => {
    const result = await probeHttp({ url: silentUrl, timeoutMs: 200, retries: 0, intervalMs: 10 });
    expect(result).toMatchObject({ ok: false, attempts: 1, reason: "timed out after 200 ms" });
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
  });

  it("stops at once when aborted", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await probeHttp({
      url: silentUrl,
      timeoutMs: 5000,
      retries: 5,
      intervalMs: 1000,
      signal: controller.signal,
    });
    expect(result).toMatchObject({ ok: false, attempts: 1, reason: "aborted" });
    expect(result.durationMs).toBeLessThan(2000);
  });
});

describe("runHealthCheck against the sample service (scraping /metrics)", () => {
  it("passes a healthy version: probes, then the canary over the period", async () => {
    const service = await startService("--version", "2.4.1");
    const started = Date.now();
    const result = await runHealthCheck({
      ready: `${service.url}/health/ready`,
      live: `${service.url}/health/live`,
      probe,
      criteria,
      source: scrapeSource({ metricsUrl: `${service.url}/metrics` }),
      periodMs: 1500,
      intervalMs: 300,
    });
    expect(result.status, result.reason).toBe("pass");
    expect(result.reason).toMatch(/^canary passed: errorRate 0\.00 <= max 0\.01/);
    expect(result.probes.map((p) => [p.kind, p.ok, p.reason])).toEqual([
      ["ready", true, "200 OK"],
      ["live", true, "200 OK"],
    ]);
    expect(result.measurements).toHaveLength(5);
    for (const m of result.measurements) {
      expect(m.verdict).toBe("pass");
      expect(m.values.errorRate).toBe(0);
      expect(m.values.successRate).toBe(1);
      expect(m.values.responseTimeP95Ms).toBeCloseTo(47.5, 6);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    await service.stop();
  });

  it("fails version 2.4.2 fast, naming the error rate", async () => {
    const service = await startService("--version", "2.4.2");
    const seen: string[] = [];
    const started = Date.now();
    const result = await runHealthCheck({
      ready: `${service.url}/health/ready`,
      live: `${service.url}/health/live`,
      probe,
      criteria,
      source: scrapeSource({ metricsUrl: `${service.url}/metrics` }),
      periodMs: 10_000,
      intervalMs: 300,
      onMeasurement: (m) => seen.push(m.verdict),
    });
    expect(result.status).toBe("fail");
    expect(result.reason).toBe(
      "canary failed: errorRate 0.30 > max 0.01; responseTimeP95Ms 485 > max 200; successRate 0.70 < min 0.99 in 3 of 3 measurements (failureLimit 2)",
    );
    expect(seen).toEqual(["fail", "fail", "fail"]);
    expect(Date.now() - started).toBeLessThan(5000);
    await service.stop();
  });

  it("fails an unready version at the readiness probe, before any measurement", async () => {
    const service = await startService("--version", "2.4.3", "--unready-versions", "2.4.3");
    const result = await runHealthCheck({
      ready: `${service.url}/health/ready`,
      live: `${service.url}/health/live`,
      probe: { timeoutMs: 1000, retries: 1, intervalMs: 50 },
      criteria,
      source: scrapeSource({ metricsUrl: `${service.url}/metrics` }),
      periodMs: 10_000,
      intervalMs: 300,
    });
    expect(result).toMatchObject({
      status: "fail",
      reason: `readiness probe ${service.url}/health/ready failed: 503 Service Unavailable after 2 attempts`,
      measurements: [],
    });
    expect(result.probes).toHaveLength(1);
    await service.stop();
  });

  it("sees a version switch: the canary judges only the traffic after it", async () => {
    const service = await startService("--version", "2.4.0");
    const check = () =>
      runHealthCheck({
        probe,
        criteria: { errorRate: { max: 0.01 } },
        source: scrapeSource({ metricsUrl: `${service.url}/metrics` }),
        periodMs: 600,
        intervalMs: 300,
        failureLimit: 1,
      });
    await switchVersion(service, "2.4.2");
    const bad = await check();
    expect(bad).toMatchObject({
      status: "fail",
      reason: "canary failed: errorRate 0.30 > max 0.01 in 2 of 2 measurements (failureLimit 1)",
    });
    await switchVersion(service, "2.4.1");
    const good = await check();
    expect(good.status, good.reason).toBe("pass");
    await service.stop();
  });

  it("is inconclusive when the metrics cannot be read", async () => {
    const service = await startService("--version", "2.4.0");
    const metricsUrl = `${service.url}/metrics`;
    await service.stop();
    const result = await runHealthCheck({
      probe,
      criteria,
      source: scrapeSource({ metricsUrl, timeoutMs: 500 }),
      periodMs: 300,
      intervalMs: 100,
    });
    expect(result.status).toBe("inconclusive");
    expect(result.reason).toBe(
      `canary inconclusive: scraping ${metricsUrl} failed: cannot reach ${metricsUrl}: connection refused in 3 of 3 measurements (inconclusiveLimit 2)`,
    );
  });
});

// --- a real Prometheus --------------------------------------------------------------------------

function prometheusProblem(): string | undefined {
  const run = spawnSync("prometheus", ["--version"], { encoding: "utf8" });
  if (run.error) return `the prometheus binary cannot run (${run.error.message})`;
  if (run.status !== 0) return `prometheus --version exited with ${run.status}: ${run.stderr}`;
  return undefined;
}
const prometheusMissing = prometheusProblem();
if (prometheusMissing) {
  console.warn(
    `SKIPPED: health checks against a real Prometheus: ${prometheusMissing} (apt-get install -y prometheus)`,
  );
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** PromQL for one scrape job of the sample service, over a short window. */
function queriesFor(job: string) {
  const sel = `job="${job}"`;
  const total = `sum(rate(http_requests_total{${sel}}[3s]))`;
  return {
    errorRate: `sum(rate(http_requests_total{${sel},code=~"5.."}[3s])) / ${total}`,
    responseTimeP95Ms: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[3s]))) * 1000`,
    successRate: `sum(rate(http_requests_total{${sel},code!~"5.."}[3s])) / ${total}`,
  };
}

interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real Prometheus in a temp dir, scraping a healthy (job "good", 2.4.1) and a bad (job "bad",
 * 2.4.2) sample service every 500 ms; resolves once both jobs have data for rate().
 */
async function startPrometheus(): Promise<PrometheusServer> {
  const began = Date.now();
  const good = await startService("--version", "2.4.1");
  const bad = await startService("--version", "2.4.2");
  const dir = mkdtempSync(join(tmpdir(), "pinline-prometheus-"));
  const config = [
    "global:",
    "  scrape_interval: 500ms",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    "  - job_name: good",
    "    static_configs:",
    `      - targets: ["127.0.0.1:${good.port}"]`,
    "  - job_name: bad",
    "    static_configs:",
    `      - targets: ["127.0.0.1:${bad.port}"]`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "prometheus.yml"), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout?.on("data", (c) => {
    log += c;
  });
  child.stderr?.on("data", (c) => {
    log += c;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const server: PrometheusServer = {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };

  // Prometheus is up within a second, but hands new targets to its scrapers only every 5 s.
  const deadline = Date.now() + 20_000;
  const probeBoth = prometheusSource({
    url,
    queries: { errorRate: queriesFor("good").errorRate, successRate: queriesFor("bad").errorRate },
    timeoutMs: 1000,
  });
  for (;;) {
    if (child.exitCode !== null) {
      await server.stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${log}`);
    }
    try {
      const values = await probeBoth.measure();
      if (values.errorRate !== undefined && values.successRate !== undefined) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`prometheus has no data after 20 s: ${log}`);
    }
    await delay(200);
  }
  console.log(`prometheus has data after ${Date.now() - began} ms`);
  return server;
}

/** Started before the other tests run, so that its warm-up overlaps them. */
let prometheusStarting: Promise<PrometheusServer> | undefined;
beforeAll(() => {
  if (prometheusMissing) return;
  prometheusStarting = startPrometheus();
  prometheusStarting.catch(() => undefined); // reported by the describe block that awaits it
});
afterAll(async () => {
  const server = await prometheusStarting?.catch(() => undefined);
  await server?.stop();
});

describe.skipIf(prometheusMissing !== undefined)(
  "prometheusSource against a real Prometheus",
  () => {
    let prometheusUrl: string;

    beforeAll(async () => {
      prometheusUrl = (await (prometheusStarting as Promise<PrometheusServer>)).url;
    }, 30_000);

    it("reads one number per criterion with real PromQL", async () => {
      const good = await prometheusSource({
        url: prometheusUrl,
        queries: queriesFor("good"),
      }).measure();
      expect(good.errorRate).toBe(0);
      expect(good.successRate).toBe(1);
      expect(good.responseTimeP95Ms).toBeCloseTo(47.5, 6);

      const bad = await prometheusSource({
        url: `${prometheusUrl}/`,
        queries: queriesFor("bad"),
      }).measure();
      expect(bad.errorRate).toBeCloseTo(0.3, 9);
      expect(bad.successRate).toBeCloseTo(0.7, 9);
      expect(bad.responseTimeP95Ms).toBeCloseTo(485, 6);
    });

    it("gives undefined for an empty result and for NaN, and a number for a scalar", async () => {
      const values = await prometheusSource({
        url: prometheusUrl,
        queries: {
          errorRate: 'sum(rate(http_requests_total{job="nowhere"}[5s]))',
          successRate: "scalar(vector(0) / vector(0))",
          responseTimeP95Ms: "scalar(sum(cm_version_info))",
        },
      }).measure();
      expect(values).toEqual({
        errorRate: undefined,
        successRate: undefined,
        responseTimeP95Ms: 2,
      });
    });

    it("throws with the query and Prometheus's error", async () => {
      const broken = "sum(rate(http_requests_total[5s])";
      await expect(
        prometheusSource({ url: prometheusUrl, queries: { errorRate: broken } }).measure(),
      ).rejects.toThrow(
        new RegExp(
          `^Prometheus query errorRate \\(${broken.replace(/[()[\]]/g, "\\$&")}\\) failed: bad_data: .*parse error`,
        ),
      );
      await expect(
        prometheusSource({
          url: prometheusUrl,
          queries: { errorRate: "rate(http_requests_total[5s])" },
        }).measure(),
      ).rejects.toThrow(/returned \d+ series; aggregate it to one/);
    });

    it("drives runHealthCheck: the good job passes, the bad one fails fast", async () => {
      const pass = await runHealthCheck({
        probe,
        criteria,
        source: prometheusSource({ url: prometheusUrl, queries: queriesFor("good") }),
        periodMs: 1500,
        intervalMs: 300,
      });
      expect(pass.status, pass.reason).toBe("pass");
      expect(pass.measurements).toHaveLength(5);

      const fail = await runHealthCheck({
        probe,
        criteria,
        source: prometheusSource({ url: prometheusUrl, queries: queriesFor("bad") }),
        periodMs: 10_000,
        intervalMs: 300,
      });
      expect(fail.status).toBe("fail");
      expect(fail.reason).toMatch(/^canary failed: errorRate 0\.30 > max 0\.01/);
      expect(fail.measurements).toHaveLength(3);
    });
  },
);
