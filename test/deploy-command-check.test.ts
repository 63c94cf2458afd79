// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${version} is the deploy command's own placeholder here
/**
 * deploy.command is checked before anything runs (issue item 6): `pinline validate` reports,
 * at the command's file:line:col, everything in it that only a shell gives meaning to, and
 * `pinline deploy` refuses such a command before verify, backup or migrate — with the same
 * analysis (core/analyze-deploy-command.ts), so the two never disagree — leaving the database,
 * the service and git as they were.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  analyzeDeployCommand,
  type DeployCommandProblemKind,
  deployVariables,
} from "../src/core/analyze-deploy-command.js";
import { InvalidValueError, UsageError } from "../src/core/errors.js";
import type { EnvironmentPin, ReleaseManifest } from "../src/core/schema-types.js";
import { buildDeployArguments, requireRunnableCommand } from "../src/deploy/run-deploy-command.js";
import { commitPromotion } from "../src/promote/commit-promotion.js";
import { buildCatalog, releaseOf } from "../src/repo/catalog.js";
import { checkDeployCommand } from "../src/repo/check-environments.js";
import { loadTree } from "../src/repo/load-tree.js";
import { CANARY_DB_VAR, type DeployRepo, startDeployRepo } from "./harness/deploy-repo.js";
import {
  copyExample,
  edit,
  removeCopies,
  runPinline,
  runPinlineAsync,
} from "./harness/example-repo.js";
import { catalogSnapshot, freshDatabase, withClient } from "./harness/postgres.js";

afterAll(removeCopies);

const PIN = { name: "production-canary", traffic: 5 } as const;
const MANIFEST = {
  components: {
    backend: { version: "2.4.1", artifact: "ghcr.io/acme/backend:2.4.1" },
  },
} as unknown as ReleaseManifest;
const VARIABLES = deployVariables(PIN, MANIFEST, "2.4.1");

/** Commands that need a shell, each with what must be said about it. */
const NEEDS_A_SHELL: { command: string; kind: DeployCommandProblemKind; says: string }[] = [
  {
    command: "deploy ${tag}",
    kind: "placeholder",
    says: "uses ${tag}, which pinline does not set",
  },
  { command: "a && b", kind: "operator", says: 'the shell operator "&&"' },
  { command: "a || b", kind: "operator", says: 'the shell operator "||"' },
  { command: "a | b", kind: "operator", says: 'the shell operator "|"' },
  { command: "a; b", kind: "operator", says: 'the shell operator ";"' },
  { command: "a &", kind: "operator", says: 'the shell operator "&"' },
  { command: "a > log", kind: "operator", says: 'the shell redirection ">"' },
  { command: "a < in", kind: "operator", says: 'the shell redirection "<"' },
  { command: "a >> log", kind: "operator", says: 'the shell redirection ">>"' },
  { command: "deploy $version", kind: "reference", says: "reads $version from the environment" },
  { command: 'deploy "$HOME"', kind: "reference", says: "reads $HOME from the environment" },
  { command: "deploy $(date)", kind: "substitution", says: "the command substitution $(date)" },
  { command: "deploy `date`", kind: "substitution", says: "a backtick command substitution" },
  { command: "apply -f k8s/*.yaml", kind: "glob", says: "the glob pattern k8s/*.yaml" },
  { command: "apply -f k8s/app?.yaml", kind: "glob", says: "the glob pattern k8s/app?.yaml" },
  { command: "apply -f k8s/[ab].yaml", kind: "glob", says: "the glob pattern k8s/[ab].yaml" },
  { command: "a ${version}\nb ${version}", kind: "line-break", says: "spans 2 lines" },
  { command: "deploy 'app:${version}'", kind: "quoted-placeholder", says: "inside single quotes" },
  { command: "deploy # ${version}", kind: "comment", says: "an unquoted #" },
  { command: "deploy ${version", kind: "syntax", says: "a ${ that is never closed" },
];

describe("the analysis validate and deploy share", () => {
  it.each(NEEDS_A_SHELL)("refuses $command", ({ command, kind, says }) => {
    const { args, problems } = analyzeDeployCommand(command, VARIABLES);
    expect(args).toBeUndefined();
    expect(problems.map((p) => p.kind)).toContain(kind);
    expect(problems.find((p) => p.kind === kind)?.message).toContain(says);
    // The deploy's own entry point refuses it with the same words.
    expect(() => buildDeployArguments(command, VARIABLES)).toThrow(InvalidValueError);
    expect(() => buildDeployArguments(command, VARIABLES)).toThrow(says);
  });

  it("says what to write instead of $version, and what pinline sets instead of $HOME", () => {
    const [own] = analyzeDeployCommand("deploy $version", VARIABLES).problems;
    expect(own?.hint).toBe("write ${version}");
    const [home] = analyzeDeployCommand("deploy $HOME", VARIABLES).problems;
    expect(home?.hint).toContain("read it in a script the command calls; pinline sets ${version}");
  });

  it.each([
    {
      command: "kubectl -n cm set image deploy/cm app=ghcr.io/acme/cm:${version}",
      args: ["kubectl", "-n", "cm", "set", "image", "deploy/cm", "app=ghcr.io/acme/cm:2.4.1"],
    },
    {
      command: 'node -e "process.exit(process.argv[1] === \\"2.4.1\\" ? 3 : 0)" ${version}',
      args: ["node", "-e", 'process.exit(process.argv[1] === "2.4.1" ? 3 : 0)', "2.4.1"],
    },
    {
      command: "deploy ${components.backend.artifact} --traffic=${traffic} ${environment}",
      args: ["deploy", "ghcr.io/acme/backend:2.4.1", "--traffic=5", "production-canary"],
    },
    {
      command: "echo '*.yaml' \"a && b\" \\; '$HOME' '#' \"[x]\"",
      args: ["echo", "*.yaml", "a && b", ";", "$HOME", "#", "[x]"],
    },
    { command: "deploy ${version}\n", args: ["deploy", "2.4.1"] },
  ])("runs $command as $args, no shell needed", ({ command, args }) => {
    expect(analyzeDeployCommand(command, VARIABLES)).toEqual({ args, problems: [] });
    expect(buildDeployArguments(command, VARIABLES)).toEqual(args);
  });

  it("keeps a substituted value one argument: a version cannot smuggle in a command", () => {
    const hostile = deployVariables(PIN, MANIFEST, "1; rm -rf / && echo $(id)");
    expect(buildDeployArguments("deploy app:${version}", hostile)).toEqual([
      "deploy",
      "app:1; rm -rf / && echo $(id)",
    ]);
  });
});

describe("pinline validate", () => {
  /** The example with each pin's deploy.command replaced (YAML as written after "command: "). */
  function exampleWith(commands: Record<string, string>): string {
    const root = copyExample();
    for (const [environment, yaml] of Object.entries(commands)) {
      edit(root, `environments/${environment}.yaml`, (text) =>
        text.replace(/command: ".*"/, () => `command: ${yaml}`),
      );
    }
    return root;
  }

  it("reports every problem of every deploy.command at the command's file:line:col", () => {
    const root = exampleWith({
      dev: '"kubectl apply -f k8s/ && kubectl rollout status deploy/cm || echo failed"',
      staging: '"kubectl get pods | grep cm; echo done &"',
      qa: '"deploy.sh ${version} > out.log 2>> err.log < in.txt"',
      "production-canary": "\"deploy.sh ${tag} $HOME $(date) `whoami` '${version}'\"",
      "production-partial": '"kubectl apply -f k8s/*.yaml --selector=app? [abc]"',
      "production-majority":
        "|\n    kubectl set image deploy/cm app=x:${version}\n    kubectl rollout status deploy/cm",
    });
    const run = runPinline(["validate", "--root", root, "--json"]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    const found = report.findings
      .filter((f: { rule: string }) => f.rule === "deploy-command")
      .map(
        (f: { file: string; line: number; column: number; message: string }) =>
          `${f.file}:${f.line}:${f.column}: ${f.message.replace(/^deploy\.command /, "")}`,
      );
    expect(found).toEqual([
      'environments/dev.yaml:23:12: has the shell operator "&&", which needs a shell; pinline runs the command without one',
      'environments/dev.yaml:23:12: has the shell operator "||", which needs a shell; pinline runs the command without one',
      "environments/production-canary.yaml:29:12: has the command substitution $(date), which needs a shell",
      "environments/production-canary.yaml:29:12: has a backtick command substitution, which needs a shell",
      "environments/production-canary.yaml:29:12: has ${version} inside single quotes, which pass it on as written instead of substituting it",
      "environments/production-canary.yaml:29:12: reads $HOME from the environment, which needs a shell; pinline substitutes only ${...} placeholders",
      "environments/production-canary.yaml:29:12: uses ${tag}, which pinline does not set",
      "environments/production-majority.yaml:29:12: spans 2 lines; a shell would run each line as a command, pinline runs one",
      "environments/production-partial.yaml:29:12: has the glob pattern k8s/*.yaml, which needs a shell to expand",
      "environments/production-partial.yaml:29:12: has the glob pattern --selector=app?, which needs a shell to expand",
      "environments/production-partial.yaml:29:12: has the glob pattern [abc], which needs a shell to expand",
      'environments/qa.yaml:23:12: has the shell redirection ">", which needs a shell; pinline runs the command without one',
      'environments/qa.yaml:23:12: has the shell redirection ">>", which needs a shell; pinline runs the command without one',
      'environments/qa.yaml:23:12: has the shell redirection "<", which needs a shell; pinline runs the command without one',
      'environments/staging.yaml:23:12: has the shell operator "|", which needs a shell; pinline runs the command without one',
      'environments/staging.yaml:23:12: has the shell operator ";", which needs a shell; pinline runs the command without one',
      'environments/staging.yaml:23:12: has the shell operator "&", which needs a shell; pinline runs the command without one',
    ]);
    // production-full kept its command: a command that needs no shell is not reported.
    expect(report.errors).toBe(found.length);
  });

  it("prints each as file:line:col: error: message (what to do)", () => {
    const root = exampleWith({ qa: '"helm upgrade cm ./chart --set image.tag=${tag}"' });
    const run = runPinline(["validate", "--root", root]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "environments/qa.yaml:23:12: error: deploy.command uses ${tag}, which pinline does not set (available: ${version}, ${traffic}, ${environment}, ${components.backend.artifact},",
    );
    expect(run.stdout).toContain(": 1 error, 0 warnings");
  });

  it("passes the example's commands", () => {
    const run = runPinline(["validate", "--root", copyExample(), "--json"]);
    const report = JSON.parse(run.stdout);
    expect(report.findings.filter((f: { rule: string }) => f.rule === "deploy-command")).toEqual(
      [],
    );
  });

  it("agrees with the deploy on every command: a finding exactly when the deploy refuses", async () => {
    const tree = await loadTree(copyExample());
    const catalog = buildCatalog(tree);
    const document = catalog.environments.get("production-canary");
    const manifest = releaseOf(catalog, "2.4.1");
    if (!document?.data || !manifest) throw new Error("the example has no production-canary");
    const pin: EnvironmentPin = document.data;
    const variables = deployVariables(pin, manifest, manifest.version);
    const commands = [
      ...NEEDS_A_SHELL.map((c) => c.command),
      "kubectl set image deploy/cm app=${components.backend.artifact}",
      "deploy ${components.worker.artifact}",
      'deploy "$"',
      "deploy $'a\\tb' ${version}",
    ];
    for (const command of commands) {
      const data = { ...pin, deploy: { command } };
      const findings = checkDeployCommand({ yaml: document.yaml, data }, manifest);
      let refused = false;
      try {
        buildDeployArguments(command, variables);
      } catch {
        refused = true;
      }
      expect({ command, refused }).toEqual({ command, refused: findings.length > 0 });
    }
  });
});

describe("pinline deploy", () => {
  const [target] = inject("postgresTargets");
  let repo: DeployRepo;
  let drop: (() => Promise<void>) | undefined;
  const temp = mkdtempSync(join(tmpdir(), "pinline-command-"));
  const PIN_FILE = "environments/production-canary.yaml";

  beforeAll(async () => {
    if (!target) throw new Error("no PostgreSQL target");
    const db = await freshDatabase(target);
    drop = db.drop;
    repo = await startDeployRepo(db.url);
  }, 60_000);

  afterAll(async () => {
    repo?.close();
    await drop?.();
    rmSync(temp, { recursive: true, force: true });
  });

  /** Everything a deploy could have changed: schema, migration history, service, git. */
  const state = async () => ({
    schema: await catalogSnapshot(repo.databaseUrl),
    history: await withClient(repo.databaseUrl, async (client) => {
      const { rows } = await client.query("SELECT * FROM pinline_schema_migrations ORDER BY 1");
      return rows;
    }),
    service: await repo.service.version(),
    head: repo.git("rev-parse", "HEAD").trim(),
    status: repo.git("status", "--porcelain"),
  });

  it("refuses a command that needs a shell before verify, backup or migrate", async () => {
    // The demo's own command with a step chained on: runnable in a shell, never here.
    const path = join(repo.root, PIN_FILE);
    const text = readFileSync(path, "utf8");
    const line = text.split("\n").findIndex((l) => l.startsWith("  command: ")) + 1;
    writeFileSync(path, text.replace(/(command: ".*)"/, '$1 && echo deployed"'));
    repo.git("commit", "-q", "-am", "Chain a step onto the deploy command");
    await commitPromotion({ root: repo.root, environment: "production-canary", version: "2.4.1" });
    const before = await state();
    expect(before.schema.join("\n")).not.toContain("ml_score"); // 2.4.1's migration adds it

    const run = await runPinlineAsync(["deploy", "production-canary", "--root", repo.root], {
      env: { [CANARY_DB_VAR]: repo.databaseUrl, TMPDIR: temp, RUNNER_TEMP: temp },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `pinline: error: ${PIN_FILE}:${line}:12: deploy production-canary refuses to start: ${PIN_FILE}'s deploy.command cannot run, so nothing was verified, backed up or migrated: deploy.command has the shell operator "&&", which needs a shell; pinline runs the command without one (put the steps in a script and call the script with \${version} as an argument; pinline validate lists every problem)`,
    );
    expect(run.stdout).toBe("");
    expect(await state()).toEqual(before);
    expect(await repo.schemaVersion()).toBe("2.4.0");
    // Nothing was started, so nothing was reverted: the pin still names 2.4.1.
    expect(repo.git("show", `HEAD:${PIN_FILE}`)).toContain('version: "2.4.1"');
  });

  it("refuses a command that cannot run for the release a failed deploy would apply again", async () => {
    const tree = await loadTree(repo.root);
    const catalog = buildCatalog(tree);
    const deployed = releaseOf(catalog, "2.4.1");
    const previous = releaseOf(catalog, "2.4.0");
    if (!deployed || !previous) throw new Error("the demo has no 2.4.0 and 2.4.1");
    const document = catalog.environments.get("production-canary");
    if (!document?.data) throw new Error("no production-canary pin");
    // A component only the new release has: its placeholder means nothing for 2.4.0.
    const withWorker = {
      ...deployed,
      components: { ...deployed.components, worker: { ...deployed.components.backend } },
    } as ReleaseManifest;
    const data = { ...document.data, deploy: { command: "deploy ${components.worker.artifact}" } };
    catalog.environments.set("production-canary", { ...document, data });
    expect(() => requireRunnableCommand(catalog, "production-canary", [withWorker])).not.toThrow();
    const refuse = () =>
      requireRunnableCommand(catalog, "production-canary", [withWorker, previous]);
    expect(refuse).toThrow(UsageError);
    expect(refuse).toThrow(
      "deploy.command cannot run for the rollback to 2.4.0, so nothing was verified, backed up or migrated: deploy.command uses ${components.worker.artifact}, which pinline does not set",
    );
  });

  it("still runs a command that needs no shell (the refusal is the command's, not the deploy's)", async () => {
    repo.git("revert", "--no-edit", "HEAD~1"); // the chained command goes; the pin stays 2.4.1
    expect(
      execFileSync("git", ["-C", repo.root, "show", `HEAD:${PIN_FILE}`], { encoding: "utf8" }),
    ).not.toContain("&&");
    const run = await runPinlineAsync(["deploy", "production-canary", "--root", repo.root], {
      env: { [CANARY_DB_VAR]: repo.databaseUrl, TMPDIR: temp, RUNNER_TEMP: temp },
    });
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("✓ production-canary runs 2.4.1");
    expect(run.code).toBe(0);
    expect(await repo.schemaVersion()).toBe("2.4.1");
  }, 60_000);
});
