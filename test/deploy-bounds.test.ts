// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${version} is the deploy command's own placeholder here
/**
 * Deploys bounded in every resource (DESIGN §6), on real parts: PostgreSQL, the sample service,
 * real HTTP servers and real processes. A /metrics page that never ends or never finishes is a
 * clear inconclusive measurement within the per-request timeout, never an out-of-memory; a
 * deploy.command that outlives deploy.timeout is stopped with everything it started; the
 * previous version's health is checked after a rollback, and a failure there is critical; the
 * analysis takes its interval, count and limits from the policy; the /metrics scrape reads the
 * metric names the pin configures.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deployEnvironment } from "../src/deploy/deploy-environment.js";
import type { DeployReport } from "../src/deploy/deploy-report.js";
import { renderRevertBody } from "../src/deploy/open-revert.js";
import { runDeployCommand } from "../src/deploy/run-deploy-command.js";
import {
  MAX_PROMETHEUS_ANSWER_BYTES,
  MAX_SCRAPE_BYTES,
  prometheusSource,
  scrapeSource,
} from "../src/health/metrics-source.js";
import { slackMessage, teamsMessage } from "../src/notify/chat-webhooks.js";
import { renderDeployComment } from "../src/notify/deploy-comment.js";
import { deployTitle, renderDeploySummary } from "../src/notify/deploy-summary.js";
import { renderUpdateEmail } from "../src/notify/send-email.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { formatFinding } from "../src/repo/findings.js";
import { validateTree } from "../src/repo/validate-tree.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";
import { freshDatabase } from "./harness/postgres.js";

const [target] = inject("postgresTargets");
const PIN = "environments/production-canary.yaml";
const POLICY = "policies/production.yaml";
const work = mkdtempSync(join(tmpdir(), "pinline-bounds-"));
let repo: DeployRepo;
let drop: (() => Promise<void>) | undefined;
/** The pin as prepared, before any test changed it (its version is set per use). */
let originalPin = "";
const servers: Server[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!target) throw new Error("no PostgreSQL target");
  const db = await freshDatabase(target);
  drop = db.drop;
  repo = await startDeployRepo(db.url);
  originalPin = readFileSync(join(repo.root, PIN), "utf8");
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  repo?.close();
  await drop?.();
  rmSync(work, { recursive: true, force: true });
  removeCopies();
});

function pinVersion(): string {
  return /version: "([^"]+)"/.exec(repo.git("show", `HEAD:${PIN}`))?.[1] ?? "?";
}

/** The original pin at its current version, changed by `change`, committed (like a merged PR). */
function setPin(change: (text: string) => string, message: string): void {
  const current = originalPin.replace(/^version: ".*"$/m, `version: "${pinVersion()}"`);
  writeFileSync(join(repo.root, PIN), change(current));
  repo.git("commit", "-q", "--allow-empty", "-am", message);
}

function withMetrics(url: string): (text: string) => string {
  return replaceOnce(/^ {2}metrics: ".*"$/m, `  metrics: "${url}"`);
}

function deploy(health: DeployInputHealth | null = defaultHealth): Promise<DeployReport> {
  return deployEnvironment({
    root: repo.root,
    environment: "production-canary",
    env: { ...process.env, [CANARY_DB_VAR]: repo.databaseUrl },
    log: () => {},
    metricsFile: join(work, "update.json"),
    backupDir: join(work, "backups"),
    ...(health ? { health } : {}),
  });
}

type DeployInputHealth = NonNullable<Parameters<typeof deployEnvironment>[0]["health"]>;
const probe = { timeoutMs: 2_000, retries: 2, intervalMs: 200 };
const defaultHealth: DeployInputHealth = { periodMs: 1_200, intervalMs: 300, probe };

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A /metrics that never ends: it writes as fast as the client reads, and counts what it wrote. */
async function endlessMetrics(): Promise<{ url: string; written: number[] }> {
  const written: number[] = [];
  const chunk = Buffer.from('http_requests_total{code="200"} 1\n'.repeat(2_000));
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    let sent = 0;
    const pump = () => {
      while (!response.destroyed) {
        sent += chunk.length;
        if (!response.write(chunk)) {
          response.once("drain", pump);
          return;
        }
      }
    };
    response.on("close", () => written.push(sent));
    pump();
  });
  return { url: `${await listen(server)}/metrics`, written };
}

/** A /metrics that never finishes: a comment line every 100 ms, forever. */
async function tricklingMetrics(): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    const timer = setInterval(() => response.write("# still here\n"), 100);
    response.on("close", () => clearInterval(timer));
  });
  return `${await listen(server)}/metrics`;
}

/** Gone, or a zombie nobody has reaped yet (it runs nothing any more). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

describe("bounded reads of the canary metrics", () => {
  it("reads at most 4 MiB of an endless /metrics body: the health step ends inconclusive, and memory stays bounded", async () => {
    const endless = await endlessMetrics();
    setPin(withMetrics(endless.url), "health.metrics: an endless page");
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const report = await deploy().finally(() => clearInterval(sampler));

    const health = report.steps.find((s) => s.name === "health");
    expect(health?.status).toBe("failed");
    expect(health?.detail).toMatch(
      new RegExp(
        `^inconclusive: canary inconclusive: scraping ${endless.url} failed: ${endless.url} answered more than 4 MiB: pinline reads at most 4 MiB of a /metrics page.* in 3 of 3 measurements \\(inconclusiveLimit 2\\)$`,
      ),
    );
    // Within its bounds: three measurements, each cut at the cap, in well under the period.
    expect(health?.durationMs).toBeLessThan(10_000);
    // The server could write little more than the cap before the reader cancelled (socket
    // buffers hold the rest); an unbounded reader would have taken hundreds of megabytes.
    expect(endless.written.length).toBeGreaterThanOrEqual(3);
    for (const bytes of endless.written)
      expect(bytes).toBeLessThan(MAX_SCRAPE_BYTES + 16 * 1024 * 1024);
    expect(peak - baseline).toBeLessThan(200 * 1024 * 1024);
    // The previous version is measured the same way after the rollback: inconclusive too.
    expect(report.rollback?.steps.find((s) => s.name === "health")?.detail).toContain(
      "answered more than 4 MiB",
    );
    expect(report.outcome).toBe("failed");
    expect(pinVersion()).toBe("2.4.0");
  }, 60_000);

  it("stops reading a /metrics that trickles bytes forever within the per-request timeout", async () => {
    const url = await tricklingMetrics();
    setPin(withMetrics(url), "health.metrics: a page that never finishes");
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    const health = report.steps.find((s) => s.name === "health");
    expect(health?.status).toBe("failed");
    expect(health?.detail).toMatch(
      /^inconclusive: canary inconclusive: scraping .* failed: reading the answer of .* failed: timed out after 1000 ms \(\d+ bytes read\) in 3 of 3 measurements \(inconclusiveLimit 2\)$/,
    );
    // The baseline scrape and three measurements, each cut at 1 s.
    expect(health?.durationMs).toBeLessThan(8_000);
    expect(pinVersion()).toBe("2.4.0");
  }, 60_000);

  it("refuses a Prometheus answer over 1 MiB, and reads one within it", async () => {
    let size = 0;
    const server = createServer((_request, response) => {
      const answer = JSON.stringify({
        status: "success",
        data: { resultType: "scalar", result: [1, "0.001"] },
        padding: "x".repeat(size),
      });
      response.writeHead(200, { "content-type": "application/json" });
      response.end(answer);
    });
    const url = await listen(server);
    const source = prometheusSource({ url, queries: { errorRate: "sum(x)" } });
    size = 1_000;
    expect(await source.measure()).toEqual({ errorRate: 0.001 });
    size = MAX_PROMETHEUS_ANSWER_BYTES;
    await expect(source.measure()).rejects.toThrow(
      `Prometheus at ${url} (query errorRate) answered more than 1 MiB: an instant query must answer one number`,
    );
  });

  it("reads a page of exactly the cap, and refuses one byte more, declared or streamed", async () => {
    let body = "";
    let declare = true;
    const server = createServer((_request, response) => {
      response.writeHead(200, declare ? { "content-length": Buffer.byteLength(body) } : {});
      response.end(body);
    });
    const metricsUrl = `${await listen(server)}/metrics`;
    const line = 'http_requests_total{code="200"} 5\n';
    const maxBytes = 64 * 1024;
    body = `${"#".repeat(maxBytes - line.length - 1)}\n${line}`;
    expect(Buffer.byteLength(body)).toBe(maxBytes);
    const source = scrapeSource({ metricsUrl, maxBytes });
    await source.start?.();
    body = `${body}#`;
    await expect(source.measure()).rejects.toThrow(`${metricsUrl} answered more than 64 KiB`);
    declare = false;
    await expect(source.measure()).rejects.toThrow(`${metricsUrl} answered more than 64 KiB`);
  });
});

describe("the deploy.command timeout", () => {
  // SIGKILL after the grace, for a group that ignores SIGTERM, is shown on runDeployCommand
  // below (with a short grace): here the deploy's whole path, with the default grace unused.
  it("stops a command that outlives deploy.timeout with its whole process group, and rolls back", async () => {
    const script = join(work, "hangs.mjs");
    const pidFile = join(work, "grandchild.pid");
    writeFileSync(
      script,
      `import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
const [pidFile, version] = process.argv.slice(2);
if (version !== "2.4.1") process.exit(0);
const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
writeFileSync(pidFile, String(child.pid));
console.log("deploying: started " + child.pid);
setInterval(() => {}, 1000);
`,
    );
    setPin(
      replaceOnce(
        /^ {2}command: ".*"$/m,
        `  command: "node ${script} ${pidFile} \${version}"\n  timeout: "2s"`,
      ),
      "deploy.timeout: 2s",
    );
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    const apply = report.steps.find((s) => s.name === "apply");
    expect(apply?.status).toBe("failed");
    expect(apply?.detail).toMatch(
      /^deploy\.command did not finish within 2s; it was stopped \(SIGTERM to its process group\): deploying: started \d+ \(make the command finish sooner, or raise deploy\.timeout in environments\/production-canary\.yaml/,
    );
    // 2 s, never the 15m default.
    expect(apply?.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(apply?.durationMs).toBeLessThan(10_000);
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    expect(isGone(grandchild), `grandchild ${grandchild} outlived the command`).toBe(true);
    // The rollback applies 2.4.0 with the same command (which finishes) and checks its health.
    expect(report.outcome).toBe("rolled-back");
    expect(report.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ["migrate", "ok"],
      ["apply", "ok"],
      ["health", "ok"],
      ["revert", "ok"],
    ]);
    expect(await repo.schemaVersion()).toBe("2.4.0");
    expect(pinVersion()).toBe("2.4.0");
  }, 60_000);

  it("runDeployCommand: SIGTERM ends a command that honours it at once; a normal one is untouched", async () => {
    const lines: string[] = [];
    const started = Date.now();
    const stopped = await runDeployCommand({
      args: [process.execPath, "-e", "console.log('working'); setInterval(() => {}, 1000)"],
      cwd: work,
      env: process.env,
      log: (line) => lines.push(line),
      timeoutMs: 500,
    });
    expect(stopped.stopped).toBe("terminated");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines).toEqual(["working"]);
    const normal = await runDeployCommand({
      args: [process.execPath, "-e", "process.exit(0)"],
      cwd: work,
      env: process.env,
      log: () => {},
      timeoutMs: 5_000,
    });
    expect(normal).toMatchObject({ exitCode: 0, stopped: undefined });
  });

  it("runDeployCommand: kills a group that ignores SIGTERM after the grace, grandchildren included", async () => {
    const pidFile = join(work, "ignoring.pid");
    const started = Date.now();
    const result = await runDeployCommand({
      args: [
        process.execPath,
        "-e",
        `const { spawn } = require("node:child_process");
const child = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "inherit" });
require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
process.on("SIGTERM", () => {});
setInterval(() => {}, 1000);`,
      ],
      cwd: work,
      env: process.env,
      log: () => {},
      timeoutMs: 300,
      killGraceMs: 700,
    });
    expect(result.stopped).toBe("killed");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(isGone(Number(readFileSync(pidFile, "utf8")))).toBe(true);
  });

  it("runDeployCommand: a command that exits but leaves a child holding its output does not hang the deploy", async () => {
    const pidFile = join(work, "background.pid");
    const started = Date.now();
    const result = await runDeployCommand({
      args: [
        process.execPath,
        "-e",
        `const { spawn } = require("node:child_process");
const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "inherit" });
require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
child.unref();
process.exit(0);`,
      ],
      cwd: work,
      env: process.env,
      log: () => {},
    });
    expect(result).toMatchObject({ exitCode: 0, stopped: undefined });
    expect(Date.now() - started).toBeLessThan(8_000);
    const pid = Number(readFileSync(pidFile, "utf8"));
    // Not a timeout: what the command started in the background is its own business.
    expect(isGone(pid)).toBe(false);
    process.kill(pid, "SIGKILL");
  });
});

/** A copy of the sample service whose every version but 2.4.3 is unhealthy. */
async function unhealthyService(): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "examples/cm-service/server.mjs"),
      "--port",
      "0",
      "--version",
      "2.4.0",
      "--bad-versions",
      "2.4.0,2.4.1,2.4.2",
      "--tick-ms",
      "50",
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  children.push(child);
  return new Promise<string>((resolve, reject) => {
    child.stdout?.once("data", (chunk) => resolve(JSON.parse(String(chunk)).url));
    child.once("exit", (code) => reject(new Error(`the sample service exited with ${code}`)));
  });
}

describe("health after a rollback", () => {
  it("checks the previous version after the rollback: unhealthy too is a failed, critical outcome, shown first everywhere", async () => {
    const bad = await unhealthyService();
    setPin(
      (text) => text.replaceAll(repo.service.url, bad),
      "production-canary on a service whose versions all fail",
    );
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    expect(report.steps.find((s) => s.name === "health")?.status).toBe("failed");
    expect(report.outcome).toBe("failed");
    expect(report.rollback?.steps.map((s) => [s.name, s.status])).toEqual([
      ["migrate", "ok"],
      ["apply", "ok"],
      ["health", "failed"],
      ["revert", "ok"],
    ]);
    const critical = report.rollback?.critical ?? "";
    expect(critical).toMatch(
      /^production-canary may be running no healthy version: the previous version 2\.4\.0 is unhealthy too: fail: canary failed: errorRate 0\.30 > max 0\.01/,
    );
    expect(report.rollback?.measurements?.length).toBeGreaterThan(0);
    expect(report.rollback?.measurements?.every((m) => m.verdict === "fail")).toBe(true);
    // What could be undone was: the schema and the pin are back on 2.4.0.
    expect(await repo.schemaVersion()).toBe("2.4.0");
    expect(pinVersion()).toBe("2.4.0");

    // Every notification leads with it.
    const summary = renderDeploySummary(report);
    expect(summary).toContain(
      "> [!CAUTION]\n> **🚨 CRITICAL:** production-canary may be running no healthy version: the previous version 2.4.0 is unhealthy too",
    );
    expect(summary.indexOf("🚨 CRITICAL")).toBeLessThan(summary.indexOf("### Steps"));
    expect(renderDeployComment(report)).toContain("> **🚨 CRITICAL:** production-canary may be");
    expect(deployTitle(report)).toBe(
      "🚨 CRITICAL: CM Diagnostics 2.4.1 failed on production-canary",
    );
    const slack = slackMessage(report);
    expect(slack.text).toBe("❌ 🚨 CRITICAL: CM Diagnostics 2.4.1 failed on production-canary");
    expect(JSON.stringify(slack.blocks)).toContain("*🚨 CRITICAL:* production-canary may be");
    expect(teamsMessage(report).sections[0]?.text).toMatch(/^🚨 CRITICAL: production-canary may/);
    const email = renderUpdateEmail(report);
    expect(email.html).toContain(
      '<p style="color: #cf222e;"><strong>🚨 CRITICAL: production-canary may be running no healthy version',
    );
    expect(email.text).toContain(
      "🚨 CRITICAL: production-canary may be running no healthy version",
    );
    // The revert PR says it too (this deploy, without GitHub, committed the revert locally).
    const body = renderRevertBody({
      environment: "production-canary",
      file: PIN,
      from: "2.4.1",
      to: "2.4.0",
      reason: report.error ?? "",
      critical,
    });
    expect(body).toContain("> [!CAUTION]\n> **🚨 CRITICAL:** production-canary may be running");
    expect(body.indexOf("🚨 CRITICAL")).toBeLessThan(body.indexOf("**Why:**"));
    setPin((text) => text, "production-canary back on the sample service");
  }, 60_000);
});

describe("the metric names the scrape reads", () => {
  /** The sample service's /metrics under other names, with a `status` label for the code. */
  async function renamingProxy(): Promise<string> {
    const server = createServer((_request, response) => {
      fetch(`${repo.service.url}/metrics`)
        .then((answer) => answer.text())
        .then((text) => {
          response.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
          response.end(
            text
              .replaceAll('http_requests_total{code="', 'cm_requests_served_total{status="')
              .replaceAll("http_requests_total", "cm_requests_served_total")
              .replaceAll("http_request_duration_seconds", "cm_request_latency_seconds"),
          );
        })
        .catch(() => response.destroy());
    });
    return `${await listen(server)}/metrics`;
  }

  it("reads the names health.metricNames sets: the canary judges a service with other names", async () => {
    const proxy = await renamingProxy();
    // With the default names that service has no data at all.
    const defaults = scrapeSource({ metricsUrl: proxy });
    await defaults.start?.();
    await delay(300);
    expect(await defaults.measure()).toEqual({
      errorRate: undefined,
      responseTimeP95Ms: undefined,
      successRate: undefined,
    });

    setPin(
      replaceOnce(
        /^ {2}metrics: ".*"$/m,
        `  metrics: "${proxy}"\n  metricNames:\n    requests: cm_requests_served_total\n    duration: cm_request_latency_seconds`,
      ),
      "health.metricNames for a service with its own names",
    );
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe("success");
    expect(report.measurements.length).toBeGreaterThan(0);
    for (const m of report.measurements) {
      expect(m.verdict).toBe("pass");
      expect(m.values.errorRate).toBe(0);
      expect(m.values.responseTimeP95Ms).toBeCloseTo(47.5, 6);
    }
  }, 60_000);
});

describe("the analysis the policy sets", () => {
  it("takes interval, count and failureLimit from the policy's analysis", async () => {
    setPin((text) => text, "production-canary on the sample service's own /metrics");
    const policy = join(repo.root, POLICY);
    writeFileSync(
      policy,
      `${readFileSync(policy, "utf8")}\nanalysis:\n  interval: "200ms"\n  count: 5\n  failureLimit: 0\n`,
    );
    repo.git("commit", "-q", "-am", "analysis: 5 measurements, 200ms apart; no failure tolerated");
    expect(pinVersion()).toBe("2.4.1");
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.2" });
    // No period or interval override: the policy decides.
    const report = await deploy({ probe });
    expect(report.steps.find((s) => s.name === "health")?.detail).toMatch(
      /^fail: canary failed: errorRate 0\.30 > max 0\.01.* in 1 of 1 measurement \(failureLimit 0\)$/,
    );
    expect(report.measurements).toHaveLength(1);
    // The previous version, 2.4.1, is measured after the rollback: count times, interval apart.
    expect(report.outcome).toBe("rolled-back");
    const after = report.rollback?.measurements ?? [];
    expect(after.map((m) => m.verdict)).toEqual(["pass", "pass", "pass", "pass", "pass"]);
    const gaps = after
      .slice(1)
      .map((m, i) => m.at.getTime() - (after[i] as { at: Date }).at.getTime());
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(150);
      expect(gap).toBeLessThan(1_000);
    }
    expect(await repo.service.version()).toBe("2.4.1");
  }, 60_000);

  it("pinline validate refuses an analysis longer than rollback.healthCheckTimeout, at the policy's analysis key", async () => {
    const root = copyExample();
    edit(root, POLICY, (text) => `${text}\nanalysis:\n  interval: "1m"\n  count: 10\n`);
    const report = await validateTree(root);
    const findings = report.findings.filter((f) => f.file === POLICY).map(formatFinding);
    expect(findings).toEqual([
      expect.stringMatching(
        /^policies\/production\.yaml:\d+:\d+: error: the analysis takes 10 × 1m = 10m, longer than rollback\.healthCheckTimeout \(5m\) \(lower analysis\.count or analysis\.interval, or raise rollback\.healthCheckTimeout\)$/,
      ),
    ]);
    edit(root, POLICY, replaceOnce("count: 10", "count: 5"));
    const fits = await validateTree(root);
    expect(fits.findings.filter((f) => f.file === POLICY)).toEqual([]);
  });
});
