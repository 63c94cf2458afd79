/**
 * `pinline demo`: the whole update lifecycle on embedded defaults — no GitHub account, no
 * database to provide. A throwaway PostgreSQL, the sample service and a git copy of the example
 * repository; then production-canary is promoted 2.4.0 → 2.4.1 (migrations applied, health
 * green) and 2.4.1 → 2.4.2, whose canary fails and is rolled back (migrations undone, service
 * and pin restored — the revert becomes a local commit); last, that deploy's pre-update backup
 * is restored into a scratch database and compared with the live one, table by table.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { styleText } from "node:util";
import pg from "pg";
import { PinlineError } from "../core/errors.js";
import { migrate } from "../db/run-migration.js";
import { deployEnvironment } from "../deploy/deploy-environment.js";
import type { DeployReport } from "../deploy/deploy-report.js";
import { commitPromotion } from "../promote/commit-promotion.js";
import { demonstrateRestore } from "./demonstrate-restore.js";
import { startEmbeddedPostgres } from "./embedded-postgres.js";
import {
  DEMO_BAD,
  DEMO_DB_VAR,
  DEMO_ENVIRONMENT,
  DEMO_GOOD,
  DEMO_START,
  prepareDemoRepo,
} from "./prepare-demo-repo.js";
import { startSampleService } from "./sample-service.js";

type Style = Parameters<typeof styleText>[0];

export interface DemoOptions {
  write: (text: string) => void;
  color: boolean;
  /** Keep the repository copy (its path is printed). */
  keep?: boolean;
  /** A server to use instead of the embedded one (DATABASE_URL). */
  databaseUrl?: string | undefined;
}

export interface DemoResult {
  ok: boolean;
  reports: DeployReport[];
  root: string;
}

/** A little of CM Diagnostics' data, for the backup to hold and the restore to bring back. */
const SAMPLE_DATA = `
INSERT INTO content_managers (name, base_url, product_version) VALUES
  ('cm-eu', 'https://cm-eu.example.com', '23.4'), ('cm-us', 'https://cm-us.example.com', '24.1');
INSERT INTO diagnostic_rules (code, title, default_severity) VALUES
  ('PERF-001', 'Slow full-text search', 'warning'), ('SEC-002', 'Share open to everyone', 'critical'),
  ('IDX-003', 'Audit log without an index', 'info');
INSERT INTO diagnostics (content_manager_id, rule_id, severity, message)
  SELECT cm.id, r.id, r.default_severity, r.title || ' on ' || cm.name
    FROM content_managers cm CROSS JOIN diagnostic_rules r;`;

async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** host:port of a URL, never its password. */
function describeServer(serverUrl: string): string {
  try {
    const url = new URL(serverUrl);
    return `${url.hostname}:${url.port || 5432}`;
  } catch {
    return "an unparsable URL";
  }
}

function databaseOn(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const paint = (style: Style, text: string) => (options.color ? styleText(style, text) : text);
  const say = (line = "") => options.write(`${line}\n`);
  const heading = (text: string) => say(`\n${paint(["bold", "cyan"], `━━ ${text}`)}`);
  const stepLine = (line: string) => {
    const styled =
      line.startsWith("✓") || line.includes(" ✓ ")
        ? paint("green", line)
        : line.startsWith("✗") || line.includes("✗ ")
          ? paint("red", line)
          : line.startsWith("↩") || line.startsWith("rollback")
            ? paint("yellow", line)
            : line.startsWith("▶")
              ? paint("bold", line)
              : paint("dim", line);
    say(`   ${styled}`);
  };
  const started = Date.now();
  const cleanups: (() => Promise<void> | void)[] = [];
  const reports: DeployReport[] = [];
  let root = "";
  try {
    heading("Setting up (no GitHub account, nothing to install)");
    const server = options.databaseUrl
      ? { url: options.databaseUrl, version: "DATABASE_URL", stop: async () => {} }
      : await startEmbeddedPostgres();
    cleanups.push(() => server.stop());
    const name = `pinline_demo_${process.pid}_${Date.now()}`;
    const scratch = `${name}_restore`;
    try {
      await query(server.url, `CREATE DATABASE ${name}`);
      await query(server.url, `CREATE DATABASE ${scratch}`);
    } catch (error) {
      throw new PinlineError(
        `the demo cannot create its databases on ${options.databaseUrl ? "DATABASE_URL" : "the embedded server"} (${describeServer(server.url)}): ${(error as Error).message}`,
        {
          hint: options.databaseUrl
            ? "start that server, give its user CREATEDB, or unset DATABASE_URL to use an embedded one"
            : "run pinline demo again; if it persists, set DATABASE_URL to a server you have",
        },
      );
    }
    cleanups.push(async () => {
      await query(server.url, `DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
      await query(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
    const databaseUrl = databaseOn(server.url, name);
    say(`   PostgreSQL ${server.version} ${paint("dim", `(database ${name})`)}`);
    const service = await startSampleService(DEMO_START);
    cleanups.push(() => service.stop());
    say(`   sample service ${service.url} ${paint("dim", `running ${DEMO_START}`)}`);
    const repo = await prepareDemoRepo({ serviceUrl: service.url, databaseUrl });
    root = repo.root;
    if (!options.keep) cleanups.push(() => repo.remove());
    say(
      `   repository ${repo.root} ${paint("dim", `(git; ${DEMO_ENVIRONMENT} pinned to ${DEMO_START}, schema at ${DEMO_START})`)}`,
    );
    await query(databaseUrl, SAMPLE_DATA);
    say(`   sample data ${paint("dim", "(2 Content Managers, 3 rules, 6 findings)")}`);
    const backupDir = mkdtempSync(join(tmpdir(), "pinline-demo-backups-"));
    if (!options.keep) cleanups.push(() => rmSync(backupDir, { recursive: true, force: true }));

    const env = { ...process.env, [DEMO_DB_VAR]: databaseUrl };
    const act = async (version: string, expected: DeployReport["outcome"]) => {
      heading(`Promote ${DEMO_ENVIRONMENT} to ${version}, then deploy`);
      const promotion = await commitPromotion({
        root: repo.root,
        environment: DEMO_ENVIRONMENT,
        version,
      });
      say(
        `   ${paint("bold", "promote")} ${promotion.file}: ${promotion.from} → ${promotion.to} ${paint("dim", `(commit ${promotion.commit.slice(0, 7)})`)}`,
      );
      const report = await deployEnvironment({
        root: repo.root,
        environment: DEMO_ENVIRONMENT,
        env,
        log: stepLine,
        backupDir,
        health: {
          periodMs: 3_000,
          intervalMs: 600,
          probe: { timeoutMs: 2_000, retries: 2, intervalMs: 300 },
        },
      });
      reports.push(report);
      const seconds = ((report.finishedAt.getTime() - report.startedAt.getTime()) / 1000).toFixed(
        1,
      );
      const verdict =
        report.outcome === "success"
          ? paint(["bold", "green"], `✅ ${version} is live on ${DEMO_ENVIRONMENT}`)
          : report.outcome === "rolled-back"
            ? paint(
                ["bold", "yellow"],
                `↩️  ${version} was rolled back: ${DEMO_ENVIRONMENT} is on ${report.from} again`,
              )
            : paint(["bold", "red"], `❌ ${version} failed and could not be rolled back`);
      say(`   ${verdict} ${paint("dim", `(${seconds} s)`)}`);
      return report.outcome === expected;
    };
    const first = await act(DEMO_GOOD, "success");
    const second = await act(DEMO_BAD, "rolled-back");

    heading(`Restore ${DEMO_BAD}'s pre-update backup into a scratch database`);
    const restore = await demonstrateRestore({
      report: reports.at(-1),
      root: repo.root,
      databaseUrl,
      scratchUrl: databaseOn(server.url, scratch),
    });
    for (const line of restore.lines) stepLine(line);

    heading("Final state");
    const schema = (
      await migrate({ root: repo.root, target: DEMO_START, databaseUrl, dryRun: true })
    ).from;
    const pin = /version: "([^"]+)"/.exec(
      repo.git("show", `HEAD:environments/${DEMO_ENVIRONMENT}.yaml`),
    )?.[1];
    const rows = [
      ["pin (git)", pin ?? "?"],
      ["service", await service.version()],
      ["database schema", schema ?? "empty"],
    ];
    for (const [what, value] of rows)
      say(`   ${(what ?? "").padEnd(16)} ${paint("bold", value ?? "")}`);
    say(`   ${paint("dim", "history:")}`);
    for (const line of repo.git("log", "--format=%h %s", "-4").trim().split("\n"))
      say(`     ${line}`);
    const revert = reports.at(-1)?.rollback?.revert?.commit;
    if (revert) {
      say(
        `   ${paint("dim", `No GitHub here, so the revert is the local commit ${revert.slice(0, 7)}; on GitHub it is a PR labelled pinline:revert.`)}`,
      );
    }
    const ok = first && second && restore.ok && pin === DEMO_GOOD && schema === DEMO_GOOD;
    say(
      `\n${ok ? paint(["bold", "green"], "Demo finished") : paint(["bold", "red"], "Demo did not go as expected")} in ${((Date.now() - started) / 1000).toFixed(1)} s.${options.keep ? ` The repository stays at ${repo.root}, the backups at ${backupDir}.` : ""}`,
    );
    return { ok, reports, root };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // Best effort: a failing cleanup must not hide the demo's own outcome.
      }
    }
  }
}
