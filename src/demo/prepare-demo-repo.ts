/**
 * The demo's repository: a git copy of the CM Diagnostics example whose production-canary pin
 * points at a running sample service and a database, plus a bad release 2.4.2 (its canary
 * fails: the service answers 30% of requests with 500), signed by both example keys like every
 * example release. Health is judged over seconds, not minutes.
 */

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PinlineError } from "../core/errors.js";
import { migrate } from "../db/run-migration.js";
import { shippedFileDigest } from "../repo/shipped-file-digest.js";
import { signRelease } from "../trust/sign-release.js";
import { packageRoot } from "./package-root.js";

export const DEMO_ENVIRONMENT = "production-canary";
export const DEMO_DB_VAR = "CM_DB_URL_PRODUCTION_CANARY";
export const DEMO_START = "2.4.0";
export const DEMO_GOOD = "2.4.1";
export const DEMO_BAD = "2.4.2";

function pinText(serviceUrl: string, version: string): string {
  const setVersion = join(packageRoot(), "examples/cm-service/set-version.mjs");
  return `# yaml-language-server: $schema=../schemas/environment.schema.json
# Production canary, wired to the sample service (examples/cm-service) for the demo.
name: ${DEMO_ENVIRONMENT}
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
  urlEnv: ${DEMO_DB_VAR}

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

/** releases/2.4.2: 2.4.1's manifest, one migration on top of it, signed by both example keys. */
async function addBadRelease(root: string): Promise<void> {
  const dir = join(root, "releases", DEMO_BAD);
  mkdirSync(join(dir, "migrations"), { recursive: true });
  mkdirSync(join(dir, "rollback"), { recursive: true });
  const manifest = readFileSync(join(root, "releases/2.4.1/release.yaml"), "utf8")
    .replaceAll('"2.4.1"', `"${DEMO_BAD}"`)
    .replace('from: "2.4.0"', 'from: "2.4.1"')
    .replace(
      / {2}migrations:\n( {4}- .*\n)+/,
      `  migrations:\n${entry("migrations/2.4.1-2.4.2.sql", BAD_MIGRATION)}`,
    )
    .replace(
      / {2}rollback:\n( {4}- .*\n)+/,
      `  rollback:\n${entry("rollback/2.4.2-2.4.1.sql", BAD_ROLLBACK)}`,
    );
  writeFileSync(join(dir, "release.yaml"), manifest);
  writeFileSync(join(dir, "migrations/2.4.1-2.4.2.sql"), BAD_MIGRATION);
  writeFileSync(join(dir, "rollback/2.4.2-2.4.1.sql"), BAD_ROLLBACK);
  for (const key of ["cm-diagnostics-example-1", "cm-diagnostics-example-2"]) {
    await signRelease({
      root,
      releaseDir: dir,
      armoredPrivateKey: readFileSync(
        join(packageRoot(), `examples/signing-keys/${key}.private.asc`),
        "utf8",
      ),
    });
  }
}

/** One line of a manifest's SQL list: the file with the sha256 of its text. */
function entry(file: string, sql: string): string {
  return `    - { file: ${file}, sha256: "${shippedFileDigest(sql)}" }\n`;
}

/** git in the demo's repository; its failures say what to do, never a stack trace. */
function runGit(root: string, args: string[]): string {
  try {
    return execFileSync("git", ["-C", root, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === "ENOENT") {
      throw new PinlineError("the demo needs git, and there is no git on PATH", {
        hint: "install git (such as apt-get install git) and run pinline demo again",
      });
    }
    const said = (failure.stderr ?? "").trim().split("\n").filter(Boolean).slice(-2).join(" / ");
    throw new PinlineError(`git ${args[0]} failed in the demo's repository ${root}: ${said}`, {
      hint: "run pinline demo --keep to keep the repository and look at it",
    });
  }
}

export interface DemoRepo {
  root: string;
  git(...args: string[]): string;
  remove(): void;
}

export async function prepareDemoRepo(input: {
  serviceUrl: string;
  databaseUrl: string;
}): Promise<DemoRepo> {
  const root = mkdtempSync(join(tmpdir(), "pinline-demo-"));
  for (const dir of ["releases", "policies", "environments", "schemas", "keys"]) {
    cpSync(join(packageRoot(), dir), join(root, dir), { recursive: true });
  }
  const git = (...args: string[]) => runGit(root, args);
  git("init", "-q", "-b", "main");
  // The throwaway repository carries its own identity: the demo's commits (the import, the
  // promotions, the revert) need none from the user, who may have no git identity at all.
  git("config", "user.name", "CM Diagnostics");
  git("config", "user.email", "releases@cm-diagnostics.example.com");
  writeFileSync(
    join(root, "environments", `${DEMO_ENVIRONMENT}.yaml`),
    pinText(input.serviceUrl, DEMO_START),
  );
  await addBadRelease(root);
  const policy = join(root, "policies/production.yaml");
  writeFileSync(
    policy,
    readFileSync(policy, "utf8").replace(/healthCheckTimeout: "[^"]*"/, 'healthCheckTimeout: "3s"'),
  );
  git("add", "-A");
  git("commit", "-q", "-m", `Import CM Diagnostics; ${DEMO_ENVIRONMENT} runs ${DEMO_START}`);
  await migrate({ root, target: DEMO_START, databaseUrl: input.databaseUrl });
  return { root, git, remove: () => rmSync(root, { recursive: true, force: true }) };
}
