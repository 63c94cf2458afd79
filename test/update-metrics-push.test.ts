import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployReport, StepName } from "../src/deploy/deploy-report.js";
import {
  buildUpdateRegistry,
  pushUpdateMetrics,
  toUpdateMetrics,
  updateGroupings,
} from "../src/notify/update-metrics.js";
import { repoRoot } from "./harness/example-repo.js";

/**
 * The update metrics end to end: deploys pushed to a real Pushgateway, its /metrics read back,
 * and the dashboard's own queries (dashboards/updates.json) evaluated on what it serves.
 */

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
}

interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
}

const dashboard: Dashboard = JSON.parse(
  readFileSync(join(repoRoot, "dashboards/updates.json"), "utf8"),
);

function expr(title: string): string {
  const panel = dashboard.panels.find((p) => p.title === title);
  const target = panel?.targets?.[0];
  if (!target) throw new Error(`the dashboard has no panel "${title}" with a query`);
  return target.expr;
}

// --- the text exposition format, and the few PromQL forms the dashboard uses ---------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[3] === undefined) throw new Error(`unreadable sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** A scalar, or a vector keyed by the `by` labels' values. */
type Value = number | Map<string, number>;

/**
 * Evaluates `sum [by (labels)] (metric)`, numbers, `/` and `*`, left to right: enough for the
 * dashboard's queries, and it throws on anything else, so a query it cannot read fails loudly.
 */
function evaluate(query: string, samples: Sample[]): Value {
  const tokens = query.match(/[a-zA-Z_:][\w:]*|\d+(?:\.\d+)?|[()/*,]/g) ?? [];
  let at = 0;
  const take = (expected?: string): string => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`cannot read "${query}" at token ${at}: expected ${expected ?? "more"}`);
    }
    return token;
  };
  const operand = (): Value => {
    const token = take();
    if (/^\d/.test(token)) return Number(token);
    if (token !== "sum") throw new Error(`cannot evaluate "${token}" in "${query}"`);
    const by: string[] = [];
    if (tokens[at] === "by") {
      take("by");
      take("(");
      while (tokens[at] !== ")") {
        by.push(take());
        if (tokens[at] === ",") take(",");
      }
      take(")");
    }
    take("(");
    const name = take();
    take(")");
    const matching = samples.filter((s) => s.name === name);
    if (by.length === 0) {
      return matching.length === 0 ? Number.NaN : matching.reduce((t, s) => t + s.value, 0);
    }
    const groups = new Map<string, number>();
    for (const s of matching) {
      const key = by.map((l) => s.labels[l] ?? "").join(",");
      groups.set(key, (groups.get(key) ?? 0) + s.value);
    }
    return groups;
  };
  let result = operand();
  while (at < tokens.length) {
    const operator = take();
    const right = operand();
    if (typeof result !== "number" || typeof right !== "number") {
      throw new Error(`vector arithmetic is not supported here: "${query}"`);
    }
    if (operator === "/") result = result / right;
    else if (operator === "*") result = result * right;
    else throw new Error(`unknown operator "${operator}" in "${query}"`);
  }
  return result;
}

// --- the dashboard, checked against the registry -------------------------------------------

const sampleReport: DeployReport = {
  environment: "production",
  from: "2.4.0",
  to: "2.4.1",
  channel: "stable",
  outcome: "success",
  startedAt: new Date("2025-03-04T10:00:00Z"),
  finishedAt: new Date("2025-03-04T10:02:00Z"),
  steps: [],
  measurements: [],
  release: { version: "2.4.1", mandatory: false },
};

describe("dashboards/updates.json", () => {
  // Ids 1-9 are the deploys' panels; the update server's (10 and up) are checked against its own
  // /metrics in serve.test.ts.
  const deployPanels = dashboard.panels.filter((p) => p.id < 10);
  const promql = new Set(["sum", "by", "avg", "max", "min", "count", "rate", "increase"]);

  it("is an importable Grafana dashboard on a Prometheus data source variable", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toBe("pinline-updates");
    expect(dashboard.__inputs).toContainEqual(
      expect.objectContaining({
        name: "DS_PROMETHEUS",
        type: "datasource",
        pluginId: "prometheus",
      }),
    );
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", query: "prometheus" }),
    );
    for (const panel of dashboard.panels.filter((p) => p.type !== "row")) {
      expect(panel.datasource, panel.title).toEqual({
        type: "prometheus",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable, not a template
        uid: "${DS_PROMETHEUS}",
      });
      for (const target of panel.targets ?? []) {
        expect(target.datasource, panel.title).toEqual(panel.datasource);
      }
    }
  });

  it("has the specification's four panels, with unique ids on a grid that does not overlap", () => {
    const titles = deployPanels.filter((p) => p.type !== "row").map((p) => p.title);
    expect(titles).toEqual([
      "Update Success Rate",
      "Average Update Time",
      "Updates by Channel",
      "Rollback Rate",
    ]);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const { gridPos: g, title } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it("queries only metrics and labels the update registry defines", async () => {
    const exposed = parseExposition(
      await buildUpdateRegistry(toUpdateMetrics(sampleReport)).metrics(),
    );
    const names = new Set(exposed.map((s) => s.name));
    const labels = new Set(exposed.flatMap((s) => Object.keys(s.labels)));
    const panels = deployPanels.filter((p) => p.type !== "row");
    expect(panels.every((p) => (p.targets ?? []).length > 0)).toBe(true);
    for (const panel of panels) {
      for (const { expr } of panel.targets ?? []) {
        for (const group of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
          for (const label of (group[1] ?? "").split(",").map((l) => l.trim())) {
            expect(labels, `${panel.title}: label ${label}`).toContain(label);
          }
        }
        const identifiers = expr
          .replace(/\b(?:by|without)\s*\([^)]*\)/g, "")
          .replace(/\{[^}]*\}/g, "")
          .match(/[a-zA-Z_:][\w:]*/g);
        expect(identifiers, panel.title).not.toBeNull();
        for (const identifier of identifiers ?? []) {
          if (promql.has(identifier)) continue;
          expect(names, `${panel.title}: ${identifier}`).toContain(identifier);
        }
        // and the query reads on the registry's own exposition
        expect(() => evaluate(expr, exposed), panel.title).not.toThrow();
      }
    }
  });
});

// --- a real Pushgateway --------------------------------------------------------------------

const binary = ["pushgateway", "prometheus-pushgateway"].find(
  (command) => spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0,
);
if (!binary) {
  console.warn(
    "SKIPPED: Pushgateway tests: neither pushgateway nor prometheus-pushgateway is on PATH " +
      "(apt-get install -y prometheus-pushgateway)",
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

function deploy(
  environment: string,
  to: string,
  channel: string,
  outcome: DeployReport["outcome"],
  seconds: number,
): DeployReport {
  const startedAt = new Date("2025-03-04T10:00:00Z");
  const step = (name: StepName, ms: number) => ({
    name,
    status: "ok" as const,
    startedAt,
    durationMs: ms,
    detail: name,
  });
  return {
    environment,
    from: "2.4.0",
    to,
    channel,
    outcome,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + seconds * 1000),
    steps: [step("verify", 2_000), step("migrate", 10_000), step("apply", 30_000)],
    measurements: [],
    ...(outcome === "success"
      ? {}
      : { error: "the health check failed", rollback: { steps: [step("apply", 20_000)] } }),
    release: { version: to, mandatory: false },
  };
}

describe.skipIf(!binary)("update metrics pushed to a real Pushgateway", () => {
  let gateway: ChildProcess | undefined;
  let url = "";
  let output = "";

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    gateway = spawn(binary as string, [`--web.listen-address=127.0.0.1:${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    gateway.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    gateway.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (gateway.exitCode !== null) throw new Error(`the Pushgateway exited:\n${output}`);
      try {
        if ((await fetch(`${url}/-/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the Pushgateway did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    if (!gateway || gateway.exitCode !== null) return;
    const exited = new Promise((resolve) => gateway?.once("exit", resolve));
    gateway.kill("SIGTERM");
    await exited;
  });

  async function push(report: DeployReport): Promise<void> {
    const metrics = toUpdateMetrics(report);
    await pushUpdateMetrics(buildUpdateRegistry(metrics), {
      gatewayUrl: url,
      groupings: updateGroupings(metrics),
    });
  }

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    return parseExposition(await response.text());
  }

  it("keeps a success and a rollback to one environment apart: 50% success, 50% rollbacks", async () => {
    await push(deploy("production", "2.4.1", "stable", "success", 120));
    await push(deploy("production", "2.5.0", "beta", "rolled-back", 300));
    const samples = await scrape();

    const attempts = samples.filter((s) => s.name === "pinline_update_attempts_total");
    expect(attempts.map((s) => s.labels)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          job: "pinline",
          environment: "production",
          version: "2.4.1",
          channel: "stable",
        }),
        expect.objectContaining({
          job: "pinline",
          environment: "production",
          version: "2.5.0",
          channel: "beta",
        }),
      ]),
    );

    expect(evaluate(expr("Update Success Rate"), samples)).toBe(50);
    expect(evaluate(expr("Rollback Rate"), samples)).toBe(50);
    expect(evaluate(expr("Average Update Time"), samples)).toBe(210);
    expect(evaluate(expr("Updates by Channel"), samples)).toEqual(
      new Map([
        ["stable", 1],
        ["beta", 1],
      ]),
    );
    const step = samples.find(
      (s) =>
        s.name === "pinline_update_step_duration_seconds" &&
        s.labels.version === "2.5.0" &&
        s.labels.step === "apply",
    );
    expect(step?.value).toBe(30);
  });

  it("replaces a version's earlier result when it is deployed to the same environment again", async () => {
    await push(deploy("production", "2.5.0", "beta", "success", 180));
    const samples = await scrape();
    expect(
      samples.filter(
        (s) => s.name === "pinline_update_attempts_total" && s.labels.version === "2.5.0",
      ),
    ).toHaveLength(1);
    expect(evaluate(expr("Update Success Rate"), samples)).toBe(100);
    expect(evaluate(expr("Rollback Rate"), samples)).toBe(0);
    expect(evaluate(expr("Average Update Time"), samples)).toBe(150);
  });
});

describe("pushUpdateMetrics", () => {
  it("says which gateway refused a push", async () => {
    const port = await freePort();
    const metrics = toUpdateMetrics(deploy("staging", "2.4.1", "stable", "success", 60));
    await expect(
      pushUpdateMetrics(buildUpdateRegistry(metrics), {
        gatewayUrl: `http://127.0.0.1:${port}`,
        groupings: updateGroupings(metrics),
      }),
    ).rejects.toThrow(`could not push the update metrics to http://127.0.0.1:${port}`);
  });
});
