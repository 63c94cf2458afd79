// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${dir} and its kin are the backup command's own placeholders
/**
 * The deploy's backup step (DESIGN §2 step 2) on real parts: `pinline deploy --backup-dir` puts
 * the pre-update backup (and its sidecar) there; actions/deploy, run from its bundle as the
 * runner runs it, names it in its backup-file output even when the canary failed, and that
 * backup restores into the environment's database with `pinline restore --environment`. A pin's
 * own hook runs instead, with its placeholders and the database URL, and its failure stops the
 * deploy before anything is migrated or applied. validate checks the hook as it checks
 * deploy.command.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readBackupMetadata } from "../src/backup/backup-metadata.js";
import { deployEnvironment } from "../src/deploy/deploy-environment.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import {
  copyExample,
  edit,
  removeCopies,
  runPinline,
  runPinlineAsync,
} from "./harness/example-repo.js";
import { type GitHubSimulator, startGitHubSimulator } from "./harness/github-simulator.js";
import { freshDatabase, withClient } from "./harness/postgres.js";
import { runActionAsync } from "./harness/runner.js";

const [target] = inject("postgresTargets");
const PIN = "environments/production-canary.yaml";
const scratch = mkdtempSync(join(tmpdir(), "pinline-deploy-backup-"));
const cleanups: (() => Promise<void> | void)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(scratch, { recursive: true, force: true });
  removeCopies();
});

async function deployRepo(): Promise<DeployRepo> {
  if (!target) throw new Error("no PostgreSQL target");
  const db = await freshDatabase(target);
  const repo = await startDeployRepo(db.url);
  cleanups.push(db.drop, () => repo.close());
  return repo;
}

/** A few rows of CM Diagnostics' data, to see them come back. */
async function addFindings(url: string): Promise<void> {
  await withClient(url, (c) =>
    c.query(`
      INSERT INTO content_managers (name, base_url, product_version)
        VALUES ('cm-eu', 'https://cm-eu.example.com', '23.4'), ('cm-us', 'https://cm-us.example.com', '24.1');
      INSERT INTO diagnostic_rules (code, title) VALUES ('PERF-001', 'Slow search'), ('SEC-002', 'Open share');
      INSERT INTO diagnostics (content_manager_id, rule_id, severity, message)
        SELECT cm.id, r.id, 'warning', cm.name || ': ' || r.title || E' — «quoted» \\n'
          FROM content_managers cm CROSS JOIN diagnostic_rules r;`),
  );
}

async function findings(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ row: string }>(
      "SELECT d::text AS row FROM diagnostics d ORDER BY id",
    );
    return rows.map((r) => r.row);
  });
}

describe("the backup of pinline deploy and actions/deploy", () => {
  let repo: DeployRepo;
  let sim: GitHubSimulator;
  let token: string;

  beforeAll(async () => {
    repo = await deployRepo();
    sim = await startGitHubSimulator();
    cleanups.push(() => sim.close());
    token = sim.addUser("pinline-bot", { permission: "admin", type: "Bot" });
  }, 60_000);

  it("pinline deploy --backup-dir puts the pre-update backup and its sidecar there", async () => {
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const dir = join(scratch, "cli-backups");
    const run = await runPinlineAsync(
      ["deploy", "production-canary", "--root", repo.root, "--backup-dir", dir, "--json"],
      { env: { [CANARY_DB_VAR]: repo.databaseUrl } },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.outcome).toBe("success");
    expect(report.backup.file.startsWith(`${dir}/production-canary-2.4.1-`)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(
      [report.backup.file, `${report.backup.file}.json`].map((f) => f.slice(dir.length + 1)),
    );
    const { metadata } = readBackupMetadata(report.backup.file);
    expect(metadata).toMatchObject({
      environment: "production-canary",
      from: "2.4.0",
      to: "2.4.1",
      schemaVersion: "2.4.0",
      method: report.backup.method,
      holdsData: true,
    });
    const step = report.steps.find((s: { name: string }) => s.name === "backup");
    expect(step.detail).toContain(report.backup.file);
  });

  it("actions/deploy names the backup in backup-file even when the canary fails, and it restores", async () => {
    await addFindings(repo.databaseUrl);
    const before = await findings(repo.databaseUrl);
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.2" });
    const pushed = await sim.seed(repo.root, "Import");
    const run = await runActionAsync("deploy", {
      workspace: repo.root,
      inputs: { environment: "production-canary", "github-token": token, "backup-dir": "backups" },
      eventName: "push",
      env: {
        GITHUB_API_URL: sim.url,
        GITHUB_REPOSITORY: `${sim.owner}/${sim.repo}`,
        GITHUB_SHA: pushed,
        [CANARY_DB_VAR]: repo.databaseUrl,
      },
    });
    expect(run.outputs.outcome).toBe("rolled-back");
    const file = run.outputs["backup-file"] ?? "";
    expect(file.startsWith(join(repo.root, "backups", "production-canary-2.4.2-"))).toBe(true);
    expect(existsSync(file) && existsSync(`${file}.json`)).toBe(true);
    expect(run.summary).toContain("Pre-update backup: `");

    // The data is lost after the rollback; the backup puts it back.
    await withClient(repo.databaseUrl, (c) => c.query("DELETE FROM diagnostics WHERE id % 2 = 0"));
    expect(await findings(repo.databaseUrl)).not.toEqual(before);
    const restored = await runPinlineAsync(
      ["restore", file, "--environment", "production-canary", "--root", repo.root, "--yes"],
      { env: { [CANARY_DB_VAR]: repo.databaseUrl } },
    );
    expect(restored.stderr).toBe("");
    expect(restored.code).toBe(0);
    expect(await findings(repo.databaseUrl)).toEqual(before);
    expect(await repo.schemaVersion()).toBe("2.4.1");
  });

  it("refuses another environment's backup for --environment", async () => {
    const [file] = readdirSync(join(repo.root, "backups")).filter((f) => !f.endsWith(".json"));
    const run = runPinline(
      ["restore", join(repo.root, "backups", file ?? ""), "--environment", "qa", "--yes"],
      { cwd: repo.root, env: { CM_DB_URL_QA: repo.databaseUrl } },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is production-canary's backup, not qa's; nothing was restored");
  });
});

describe("a pin's own backup command", () => {
  let repo: DeployRepo;
  const hook = join(scratch, "backup-hook.mjs");
  const backups = join(scratch, "hook-backups");

  beforeAll(async () => {
    repo = await deployRepo();
    writeFileSync(
      hook,
      `import { writeFileSync } from "node:fs";
const [dir, environment, version, from, fail] = process.argv.slice(2);
if (fail) { console.error("the backup disk is full"); process.exit(3); }
const url = new URL(process.env.${CANARY_DB_VAR});
writeFileSync(\`\${dir}/hook-\${environment}-\${from}-to-\${version}.txt\`, url.pathname);
`,
    );
  }, 60_000);

  function useHook(command: string): void {
    edit(repo.root, PIN, (text) =>
      text.replace(
        /database:\n {2}urlEnv: (\w+)\n(?: {2}backup:\n {4}command: .*\n)?/,
        (_, name) =>
          `database:\n  urlEnv: ${name}\n  backup:\n    command: ${JSON.stringify(command)}\n`,
      ),
    );
    repo.git("commit", "-q", "-am", "Back up production-canary with the team's own command");
  }

  const deploy = () =>
    deployEnvironment({
      root: repo.root,
      environment: "production-canary",
      env: { ...process.env, [CANARY_DB_VAR]: repo.databaseUrl },
      log: () => {},
      backupDir: backups,
      metricsFile: join(scratch, "update.json"),
      health: {
        periodMs: 1_200,
        intervalMs: 300,
        probe: { timeoutMs: 1_000, retries: 1, intervalMs: 100 },
      },
    });

  it("runs instead of pinline's backup, with ${dir}, ${environment}, ${version}, ${from} and the URL", async () => {
    useHook(`node ${hook} \${dir} \${environment} \${version} \${from}`);
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const report = await deploy();
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe("success");
    expect(report.backup).toEqual({ method: "hook", holdsData: true });
    const written = join(backups, "hook-production-canary-2.4.0-to-2.4.1.txt");
    expect(readFileSync(written, "utf8")).toBe(new URL(repo.databaseUrl).pathname);
    expect(readdirSync(backups)).toEqual(["hook-production-canary-2.4.0-to-2.4.1.txt"]);
  });

  it("stops the deploy before migrate when it fails: schema, service and pin as they were", async () => {
    useHook(`node ${hook} \${dir} \${environment} \${version} \${from} fail`);
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.2" });
    const report = await deploy();
    expect(report.steps.map((s) => [s.name, s.status])).toEqual([
      ["verify", "ok"],
      ["backup", "failed"],
      ["finish", "ok"],
    ]);
    expect(report.error).toBe(
      "backup: database.backup.command exited with 3: the backup disk is full; nothing was migrated or applied",
    );
    expect(report.rollback?.steps.map((s) => s.name)).toEqual(["revert"]);
    expect(await repo.schemaVersion()).toBe("2.4.1");
    expect(await repo.service.version()).toBe("2.4.1");
    expect(repo.git("show", `HEAD:${PIN}`)).toContain('version: "2.4.1"');
  });

  it("is stopped after database.backup.timeout, and the deploy stops before migrate", async () => {
    const hangs = join(scratch, "backup-hangs.mjs");
    writeFileSync(hangs, 'console.log("dumping…"); setInterval(() => {}, 1000);\n');
    useHook(`node ${hangs}`);
    edit(repo.root, PIN, (text) => text.replace(/( {4}command: .*\n)/, '$1    timeout: "1s"\n'));
    repo.git("commit", "-q", "-am", "A backup that hangs, with a 1s timeout");
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.2" });
    const [schema, service] = [await repo.schemaVersion(), await repo.service.version()];
    const report = await deploy();
    const backup = report.steps.find((s) => s.name === "backup");
    expect(backup?.status).toBe("failed");
    expect(report.error).toBe(
      "backup: database.backup.command did not finish within 1s; it was stopped (SIGTERM to its process group); nothing was migrated or applied (make the backup finish sooner, or raise database.backup.timeout in the pin)",
    );
    expect(backup?.durationMs).toBeLessThan(10_000);
    expect(report.steps.map((s) => s.name)).toEqual(["verify", "backup", "finish"]);
    expect(await repo.schemaVersion()).toBe(schema);
    expect(await repo.service.version()).toBe(service);
  });

  it("is checked by pinline validate as deploy.command is", () => {
    const root = copyExample();
    edit(root, "environments/qa.yaml", (text) =>
      text.replace(
        /database:\n {2}urlEnv: (\w+)\n/,
        (_, name) =>
          `database:\n  urlEnv: ${name}\n  backup:\n    command: "pg_dump -Fc > \${dir}/\${tag}.dump"\n`,
      ),
    );
    const run = runPinline(["validate", "--root", root, "--json"]);
    expect(run.code).toBe(1);
    const found = JSON.parse(run.stdout)
      .findings.filter((f: { rule: string }) => f.rule === "backup-command")
      .map(
        (f: { file: string; line: number; message: string }) => `${f.file}:${f.line}: ${f.message}`,
      );
    expect(found).toEqual([
      expect.stringMatching(
        /^environments\/qa\.yaml:\d+: database\.backup\.command uses \$\{tag\}, which pinline does not set$/,
      ),
      expect.stringMatching(
        /^environments\/qa\.yaml:\d+: database\.backup\.command has the shell redirection ">", which needs a shell; pinline runs the command without one$/,
      ),
    ]);
  });
});
