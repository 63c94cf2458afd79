/**
 * A CM Diagnostics repository wired to real parts for the deploy flow: a git copy of the
 * example whose production-canary pin points at a running sample service (examples/cm-service)
 * and a fresh PostgreSQL database; a bad release 2.4.2 (the service fails its canary), signed
 * by both example keys like every release.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { migrate } from "../../src/db/run-migration.js";
import { signRelease } from "../../src/trust/sign-release.js";
import { gitExample, repoRoot } from "./example-repo.js";

export const CANARY_DB_VAR = "CM_DB_URL_PRODUCTION_CANARY";

export interface SampleService {
  url: string;
  version(): Promise<string>;
  stop(): void;
}

export async function startSampleService(version: string): Promise<SampleService> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(repoRoot, "examples/cm-service/server.mjs"),
      "--port",
      "0",
      "--version",
      version,
      "--tick-ms",
      "50",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once("exit", (code) => reject(new Error(`cm-service exited with ${code}`)));
  });
  return {
    url,
    async version() {
      const response = await fetch(`${url}/admin/version`);
      return ((await response.json()) as { version: string }).version;
    },
    stop: () => child.kill("SIGTERM"),
  };
}

function pinText(serviceUrl: string, version: string): string {
  const setVersion = join(repoRoot, "examples/cm-service/set-version.mjs");
  return `# yaml-language-server: $schema=../schemas/environment.schema.json
# Production canary, wired to the sample service for the deploy tests.
name: production-canary
stage: production-canary
version: "${version}"
traffic: 5

update:
  channel: stable
  checkInterval: "6h"

health:
  ready: "${serviceUrl}/health/ready"
  live: "${serviceUrl}/health/live"
  metrics: "${serviceUrl}/metrics"

database:
  urlEnv: ${CANARY_DB_VAR}

deploy:
  command: "node ${setVersion} ${serviceUrl} \${version}"

notify:
  slack: SLACK_WEBHOOK_URL
`;
}

const BAD_MIGRATION = `-- CM Diagnostics 2.4.2: a note on every diagnostic (the release whose canary fails).
ALTER TABLE diagnostics ADD COLUMN IF NOT EXISTS canary_note text;
`;
const BAD_ROLLBACK = `-- Undoes migrations/2.4.1-2.4.2.sql.
ALTER TABLE diagnostics DROP COLUMN IF EXISTS canary_note;
`;

/** releases/2.4.2: like 2.4.1, one migration on top of it, signed by both example keys. */
async function addBadRelease(root: string): Promise<void> {
  const dir = join(root, "releases/2.4.2");
  cpSync(join(root, "releases/2.4.1"), dir, { recursive: true });
  for (const sub of ["migrations", "rollback", "release.yaml.asc"]) {
    rmSync(join(dir, sub), { recursive: true, force: true });
  }
  const manifest = readFileSync(join(dir, "release.yaml"), "utf8")
    .replaceAll('"2.4.1"', '"2.4.2"')
    .replace('from: "2.4.0"', 'from: "2.4.1"')
    .replace(/ {2}migrations:\n( {4}- .*\n)+/, "  migrations:\n    - migrations/2.4.1-2.4.2.sql\n")
    .replace(/ {2}rollback:\n( {4}- .*\n)+/, "  rollback:\n    - rollback/2.4.2-2.4.1.sql\n");
  writeFileSync(join(dir, "release.yaml"), manifest);
  mkdirSync(join(dir, "migrations"));
  mkdirSync(join(dir, "rollback"));
  writeFileSync(join(dir, "migrations/2.4.1-2.4.2.sql"), BAD_MIGRATION);
  writeFileSync(join(dir, "rollback/2.4.2-2.4.1.sql"), BAD_ROLLBACK);
  for (const key of ["cm-diagnostics-example-1", "cm-diagnostics-example-2"]) {
    await signRelease({
      root,
      releaseDir: dir,
      armoredPrivateKey: readFileSync(
        join(repoRoot, `examples/signing-keys/${key}.private.asc`),
        "utf8",
      ),
    });
  }
}

function git(root: string, ...args: string[]): string {
  const result = spawnSync(
    "git",
    [
      "-C",
      root,
      "-c",
      "user.name=CM Diagnostics",
      "-c",
      "user.email=releases@cm-diagnostics.example.com",
      ...args,
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

export interface DeployRepo {
  root: string;
  service: SampleService;
  databaseUrl: string;
  git(...args: string[]): string;
  close(): void;
}

/** The repository with production-canary at 2.4.0 on the service and in the database. */
export async function startDeployRepo(databaseUrl: string): Promise<DeployRepo> {
  const root = gitExample();
  const service = await startSampleService("2.4.0");
  writeFileSync(join(root, "environments/production-canary.yaml"), pinText(service.url, "2.4.0"));
  await addBadRelease(root);
  // Health has seconds, not minutes, here: three measurements a second apart.
  const policy = join(root, "policies/production.yaml");
  writeFileSync(
    policy,
    readFileSync(policy, "utf8").replace('healthCheckTimeout: "5m"', 'healthCheckTimeout: "3s"'),
  );
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "Wire production-canary to the sample service; release 2.4.2");
  await migrate({ root, target: "2.4.0", databaseUrl });
  return {
    root,
    service,
    databaseUrl,
    git: (...args) => git(root, ...args),
    close: () => service.stop(),
  };
}
