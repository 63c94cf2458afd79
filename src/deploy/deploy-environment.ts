/**
 * `pinline deploy <env>` / actions/deploy (DESIGN §2 "Deploy in detail", the specification's
 * update workflow, rollback manager and analytics): verify → backup → migrate → apply → health
 * → success; on a failure after something changed: roll the migrations back, apply the previous
 * version again, check its health (unhealthy too: critical), and open (or, without GitHub,
 * commit) the revert of the pin. Every step is timed into a DeployReport; one deploy per
 * environment runs at a time, from any checkout of the repository by this user on the machine.
 */

import { join } from "node:path";
import { parseDuration } from "../core/duration.js";
import { PinlineError, RefusedError, UsageError } from "../core/errors.js";
import { analysisSchedule } from "../core/evaluate-canary.js";
import { DEFAULT_CHANNEL } from "../core/gates/channel.js";
import { DEFAULT_KEEP_VERSIONS } from "../core/gates/describe-change.js";
import type { EnvironmentPin, Policy, ReleaseManifest } from "../core/schema-types.js";
import type { MigrateInput, MigrationResult } from "../db/run-migration.js";
import type { Forge } from "../github/forge.js";
import type { MetricsSource } from "../health/metrics-source.js";
import {
  DEFAULT_TIMEOUT_MS as DEFAULT_METRICS_TIMEOUT_MS,
  prometheusSource,
  scrapeSource,
} from "../health/metrics-source.js";
import { runHealthCheck } from "../health/run-health-check.js";
import { buildCatalog, type Catalog, policiesOf, releaseOf, requirePin } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { previousPinVersion } from "../repo/read-pin-history.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { ALREADY_IN_PROGRESS, acquireDeployLock, repositoryIdentity } from "./deploy-lock.js";
import type { DeployReport, HealthMeasurement, StepName, StepRecord } from "./deploy-report.js";
import { commitRevert, openRevert, type RevertRequest } from "./open-revert.js";
import { privateStateDir } from "./private-state-dir.js";
import { requireRanBefore } from "./revert-environment.js";
import {
  buildDeployArguments,
  DEFAULT_DEPLOY_TIMEOUT,
  deployVariables,
  describeStop,
  requireRunnableCommand,
  runDeployCommand,
} from "./run-deploy-command.js";

/** The specification's default health-check timeout (section 2.1): 5 minutes. */
const DEFAULT_HEALTH_PERIOD = "5m";
const DEFAULT_PROBE = { timeoutMs: 5_000, retries: 5, intervalMs: 2_000 };
/** A GitHub deployment still "in progress" after this long is taken as abandoned. */
const STALE_DEPLOYMENT_MS = 6 * 3_600_000;

export interface DeployInput {
  root: string;
  environment: string;
  /** Where secrets come from (database URLs, webhook URLs); default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** GitHub: deployments and the revert PR. Without it the revert is a local commit. */
  forge?: Forge | undefined;
  /** The commit being deployed (GITHUB_SHA); default: the checkout's HEAD pin commit. */
  ref?: string | undefined;
  /** The version to roll back to; default: the pin's previous version in git history. */
  previous?: string | undefined;
  base?: string | undefined;
  log: (line: string) => void;
  /** Overrides for the health check (tests and the demo use short periods). */
  health?: { periodMs?: number; intervalMs?: number; probe?: typeof DEFAULT_PROBE } | undefined;
  /**
   * Where the pre-update backup goes (`--backup-dir`, the action's backup-dir); default
   * RUNNER_TEMP/pinline-backups, else the temp folder's. The folder keeps the environment's
   * newest rollback.keepVersions backups.
   */
  backupDir?: string | undefined;
  lockDir?: string | undefined;
  runUrl?: string | undefined;
  /** The promotion PR that changed the pin, for the sticky deploy comment. */
  pullRequest?: number | undefined;
  /** Where the update metrics JSON goes (default: RUNNER_TEMP or the temp folder). */
  metricsFile?: string | undefined;
  now?: () => Date;
}

/**
 * OpenPGP and pg load when the steps that use them run, not when the action starts (DESIGN §7:
 * an action's cold start within 3x of bare node).
 */
async function migrate(input: MigrateInput): Promise<MigrationResult> {
  const [db, trust] = await Promise.all([
    import("../db/run-migration.js"),
    import("../trust/verify-release.js"),
  ]);
  // Every release whose files a deploy runs — forward, or rolled back — must verify, not only
  // the target: an intermediate release's SQL runs too (DESIGN §6, what is signed is what runs).
  return db.migrate({ ...input, verifyRelease: trust.releaseVerifier(input.root) });
}

async function verifyRelease(
  input: Parameters<typeof import("../trust/verify-release.js").verifyRelease>[0],
) {
  return (await import("../trust/verify-release.js")).verifyRelease(input);
}

/** What a step returns: a one-line detail, or it throws to fail. */
type StepBody = () => Promise<string>;

class StepRunner {
  readonly steps: StepRecord[] = [];
  constructor(
    private readonly now: () => Date,
    private readonly log: (line: string) => void,
    private readonly prefix = "",
  ) {}

  async run(name: StepName, body: StepBody): Promise<boolean> {
    const startedAt = this.now();
    this.log(`${this.prefix}▶ ${name}`);
    try {
      const detail = await body();
      this.record(name, "ok", startedAt, detail);
      return true;
    } catch (error) {
      const detail = error instanceof PinlineError ? error.describe() : String(error);
      this.record(name, "failed", startedAt, detail);
      return false;
    }
  }

  skip(name: StepName, detail: string): void {
    this.record(name, "skipped", this.now(), detail);
  }

  private record(name: StepName, status: StepRecord["status"], startedAt: Date, detail: string) {
    const durationMs = this.now().getTime() - startedAt.getTime();
    this.steps.push({ name, status, startedAt, durationMs, detail });
    const mark = status === "ok" ? "✓" : status === "failed" ? "✗" : "–";
    this.log(`${this.prefix}${mark} ${name} (${(durationMs / 1000).toFixed(1)} s): ${detail}`);
  }

  get failure(): StepRecord | undefined {
    return this.steps.find((step) => step.status === "failed");
  }
}

/**
 * One lock folder per repository, whatever the checkout: keyed by its root commit
 * (repositoryIdentity), so two clones of it on this machine never deploy one environment at
 * once. Not a git repository, or a shallow clone: refused (fail closed) — a deploy reads the
 * pin history from git anyway, and a path-keyed fallback would let two clones race.
 */
async function lockDirFor(root: string): Promise<string> {
  return join(privateStateDir(), "locks", `repository-${await repositoryIdentity(root)}`);
}

/**
 * The policy that governs rollback, canary, analysis and the deploy timeout: for each, the
 * first applying policy that sets it.
 */
function governing(policies: readonly Policy[]): Policy {
  return {
    appliesTo: ["*"],
    rollback: policies.find((p) => p.rollback)?.rollback,
    canary: policies.find((p) => p.canary)?.canary,
    analysis: policies.find((p) => p.analysis)?.analysis,
    deploy: policies.find((p) => p.deploy)?.deploy,
  };
}

/**
 * The canary metrics source the pin names. Each read (request and body) times out within the
 * measurement interval, clamped to 1–10 s, as Prometheus keeps scrape_timeout within
 * scrape_interval: a measurement never runs into the next one for long.
 */
function metricsSourceFor(pin: EnvironmentPin, intervalMs: number): MetricsSource | undefined {
  const { prometheus, metrics, metricNames } = pin.health ?? {};
  const timeoutMs = Math.max(1_000, Math.min(DEFAULT_METRICS_TIMEOUT_MS, intervalMs));
  if (prometheus) {
    return prometheusSource({
      url: prometheus.url,
      queries: {
        errorRate: prometheus.errorRate,
        responseTimeP95Ms: prometheus.responseTimeP95Ms,
        successRate: prometheus.successRate,
      },
      timeoutMs,
    });
  }
  return metrics ? scrapeSource({ metricsUrl: metrics, names: metricNames, timeoutMs }) : undefined;
}

/** Refuses when GitHub shows another deployment of this environment still in progress. */
async function checkNoDeploymentInProgress(
  forge: Forge,
  environment: string,
  now: Date,
): Promise<void> {
  const recent = (await forge.listDeployments(environment)).slice(0, 5);
  for (const deployment of recent) {
    if (now.getTime() - deployment.createdAt.getTime() > STALE_DEPLOYMENT_MS) continue;
    const statuses = await forge.listDeploymentStatuses(deployment.id);
    const latest = statuses.at(-1)?.state;
    if (latest === "in_progress" || latest === "queued" || latest === "pending") {
      throw new RefusedError(
        `${ALREADY_IN_PROGRESS}: GitHub deployment ${deployment.id} of ${deployment.version ?? deployment.ref} to ${environment} is ${latest}`,
        {
          hint: "wait for it to finish; the workflow's concurrency group should have queued this run",
        },
      );
    }
  }
}

interface Context {
  input: DeployInput;
  catalog: Catalog;
  pin: EnvironmentPin;
  file: string;
  manifest: ReleaseManifest;
  previousManifest: ReleaseManifest | undefined;
  policy: Policy;
  from: string;
  to: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
}

function databaseUrlOf(context: Context): string | undefined {
  const name = context.pin.database?.urlEnv;
  if (!name) return undefined;
  const url = context.env[name];
  if (!url) {
    throw new UsageError(
      `${name} is not set: ${context.file} names it as the database URL's variable`,
      {
        hint: `pass the secret as ${name} (env: ${name}: \${{ secrets.${name} }})`,
      },
    );
  }
  return url;
}

/** How long deploy.command may run: the pin's deploy.timeout, else the policy's, else 15m. */
function deployTimeout(context: Context): string {
  return context.pin.deploy?.timeout ?? context.policy.deploy?.timeout ?? DEFAULT_DEPLOY_TIMEOUT;
}

async function applyVersion(
  context: Context,
  version: string,
  manifest: ReleaseManifest,
): Promise<string> {
  const command = context.pin.deploy?.command;
  if (!command) return "no deploy.command: Argo CD or Flux apply the pin; only health is checked";
  const args = buildDeployArguments(command, deployVariables(context.pin, manifest, version));
  const timeout = deployTimeout(context);
  context.input.log(`  $ ${args.join(" ")}`);
  const result = await runDeployCommand({
    args,
    cwd: context.input.root,
    env: context.env,
    log: (line) => context.input.log(`  │ ${line}`),
    timeoutMs: parseDuration(timeout),
  });
  if (result.stopped) {
    throw new PinlineError(
      `deploy.command did not finish within ${timeout}; it was stopped (${describeStop(result.stopped)})${result.tail.length > 0 ? `: ${result.tail.at(-1)}` : ""}`,
      {
        hint: `make the command finish sooner, or raise deploy.timeout in ${context.file} (or the policy's deploy.timeout)`,
      },
    );
  }
  if (result.exitCode !== 0) {
    throw new PinlineError(
      `deploy.command exited with ${result.exitCode}${result.tail.length > 0 ? `: ${result.tail.at(-1)}` : ""}`,
    );
  }
  return `${args[0]} exited 0 in ${(result.durationMs / 1000).toFixed(1)} s`;
}

/**
 * The analysis the policy asks for (analysis.interval, count, failureLimit, inconclusiveLimit;
 * the period is rollback.healthCheckTimeout), with the overrides tests and the demo pass.
 */
function analysisFor(context: Context) {
  const { policy, input } = context;
  const analysis = policy.analysis;
  const periodMs =
    input.health?.periodMs ??
    parseDuration(policy.rollback?.healthCheckTimeout ?? DEFAULT_HEALTH_PERIOD);
  const { intervalMs } = analysisSchedule({
    periodMs,
    intervalMs:
      input.health?.intervalMs ??
      (analysis?.interval !== undefined ? parseDuration(analysis.interval) : undefined),
  });
  return {
    periodMs,
    intervalMs,
    count: analysis?.count,
    failureLimit: analysis?.failureLimit,
    inconclusiveLimit: analysis?.inconclusiveLimit,
  };
}

/** Probes and canary analysis of what runs now; returns the reason, throws when not healthy. */
async function checkHealth(context: Context, measurements: HealthMeasurement[]): Promise<string> {
  const { pin, policy, input } = context;
  const analysis = analysisFor(context);
  const source = metricsSourceFor(pin, analysis.intervalMs);
  const result = await runHealthCheck({
    ready: pin.health?.ready,
    live: pin.health?.live,
    probe: input.health?.probe ?? DEFAULT_PROBE,
    criteria: source ? policy.canary : undefined,
    source,
    ...analysis,
    onProbe: (probe) => input.log(`  probe ${probe.kind} ${probe.url}: ${probe.reason}`),
    onMeasurement: (m) => {
      measurements.push(m);
      const values = Object.entries(m.values)
        .map(([name, value]) => `${name}=${value === undefined ? "n/a" : Number(value.toFixed(4))}`)
        .join(" ");
      input.log(
        `  ${m.verdict === "pass" ? "✓" : m.verdict === "fail" ? "✗" : "?"} ${values}${m.problems.length ? ` — ${m.problems.join("; ")}` : ""}`,
      );
    },
    now: context.now,
  });
  if (result.status === "pass") return result.reason;
  // Inconclusive (no data) counts as a failure: nobody can say the new version is healthy.
  throw new PinlineError(`${result.status}: ${result.reason}`);
}

export async function deployEnvironment(input: DeployInput): Promise<DeployReport> {
  const now = input.now ?? (() => new Date());
  const startedAt = now();
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "deploy");
  const catalog = buildCatalog(tree);
  const { file, pin } = requirePin(catalog, input.environment);
  const to = pin.version;
  const manifest = releaseOf(catalog, to);
  if (!manifest) {
    throw new RefusedError(
      `${file} pins ${to}, but releases/${to} does not exist or does not validate`,
    );
  }
  // Refused before anything runs: a rollback target the environment never ran, and a
  // deploy.command that cannot run (validate's analysis) — a command that can never run must
  // never migrate a database.
  if (input.previous !== undefined) {
    const { root, environment, previous: version } = input;
    await requireRanBefore({ root, environment, catalog, current: to, version });
  }
  const from =
    input.previous ?? (await previousPinVersion(input.root, input.environment, to)) ?? to;
  const previousManifest = releaseOf(catalog, from);
  requireRunnableCommand(catalog, input.environment, [manifest, previousManifest]);
  const policies = policiesOf(catalog, input.environment);
  const context: Context = {
    input,
    catalog,
    pin,
    file,
    manifest,
    previousManifest,
    policy: governing(policies),
    from,
    to,
    env: input.env ?? process.env,
    now,
  };

  const lockDir = input.lockDir ?? (await lockDirFor(input.root));
  const lock = acquireDeployLock(lockDir, input.environment, input.root);
  try {
    if (input.forge) await checkNoDeploymentInProgress(input.forge, input.environment, now());
    return await runDeploy(context, startedAt);
  } finally {
    lock.release();
  }
}

async function runDeploy(context: Context, startedAt: Date): Promise<DeployReport> {
  const { input, pin, from, to, manifest, now } = context;
  const log = input.log;
  const forge = input.forge;
  log(`pinline deploy ${input.environment}: ${from} → ${to}`);
  const deployment = forge
    ? await forge.createDeployment({
        environment: input.environment,
        ref: input.ref ?? input.base ?? "main",
        version: to,
        description: `pinline: ${from} → ${to}`,
        production: input.environment.startsWith("production"),
      })
    : undefined;
  const environmentUrl = pin.health?.ready ? new URL(pin.health.ready).origin : undefined;
  if (forge && deployment) {
    await forge.createDeploymentStatus(deployment.id, {
      state: "in_progress",
      logUrl: input.runUrl,
      environmentUrl,
      description: `deploying ${to}`,
    });
  }

  const steps = new StepRunner(now, log);
  const measurements: HealthMeasurement[] = [];
  let databaseUrl: string | undefined;
  let backup: DeployReport["backup"];
  let migrated = false;
  let applied = false;

  const ok =
    (await steps.run("verify", async () => {
      const result = await verifyRelease({
        root: input.root,
        releaseDir: join(input.root, "releases", manifest.version),
      });
      if (!result.ok) throw new RefusedError(result.summary);
      return result.summary;
    })) &&
    (await steps.run("backup", async () => {
      databaseUrl = databaseUrlOf(context);
      const urlEnv = pin.database?.urlEnv;
      if (!databaseUrl || !urlEnv) return "no database: the pin names none";
      const plan = await migrate({ root: input.root, target: to, databaseUrl, dryRun: true });
      const { backupDatabase } = await import("./backup-database.js");
      const step = await backupDatabase({
        databaseUrl,
        urlEnv,
        command: pin.database?.backup?.command,
        timeout: pin.database?.backup?.timeout,
        dir:
          input.backupDir ?? join(context.env.RUNNER_TEMP ?? privateStateDir(), "pinline-backups"),
        environment: input.environment,
        from,
        to,
        schemaVersion: plan.from,
        keep: context.policy.rollback?.keepVersions ?? DEFAULT_KEEP_VERSIONS,
        at: now(),
        root: input.root,
        env: context.env,
        log,
      });
      backup = step.backup;
      return step.detail;
    })) &&
    (await steps.run("migrate", async () => {
      if (!databaseUrl) return "no database";
      migrated = true;
      const result = await migrate({
        root: input.root,
        target: to,
        databaseUrl,
        appliedBy: `pinline deploy ${input.environment}`,
        onProgress: (event) => log(`  ${event.message}`),
      });
      return result.summary;
    })) &&
    (await steps.run("apply", async () => {
      applied = true;
      return applyVersion(context, to, manifest);
    })) &&
    (await steps.run("health", () => checkHealth(context, measurements)));

  const failure = steps.failure;
  let rollback: DeployReport["rollback"];
  let outcome: DeployReport["outcome"] = "success";
  if (!ok && failure) {
    // Whatever ran is undone, and the pin goes back too: git must not claim a version that is
    // not running (even when verify refused it before anything changed).
    rollback = await rollBack(context, { databaseUrl, migrated, applied, failure, measurements });
    outcome = rollback.steps.every((s) => s.status !== "failed") ? "rolled-back" : "failed";
  }
  const report: DeployReport = {
    environment: input.environment,
    from,
    to,
    channel: pin.update?.channel ?? DEFAULT_CHANNEL,
    outcome,
    startedAt,
    finishedAt: now(),
    steps: steps.steps,
    measurements,
    ...(backup ? { backup } : {}),
    ...(failure ? { error: `${failure.name}: ${failure.detail}` } : {}),
    ...(rollback ? { rollback } : {}),
    release: {
      version: manifest.version,
      mandatory: manifest.mandatory ?? false,
      releaseNotes: manifest.releaseNotes,
      changelog: manifest.changelog,
    },
    runUrl: input.runUrl,
  };
  await steps.run("finish", () => finish(context, report));
  report.steps = steps.steps;
  report.finishedAt = now();
  if (forge && deployment) {
    await forge.createDeploymentStatus(deployment.id, {
      state: outcome === "success" ? "success" : "failure",
      logUrl: input.runUrl,
      environmentUrl,
      description: outcome === "success" ? `${to} is healthy` : (report.error ?? "failed"),
    });
  }
  log(
    outcome === "success"
      ? `✓ ${input.environment} runs ${to}`
      : outcome === "rolled-back"
        ? `↩ ${input.environment} is back on ${from}: ${report.error}`
        : `✗ ${input.environment}: ${report.error}`,
  );
  return report;
}

/** The merged PR that brought the deployed commit to main, for its sticky deploy comment. */
async function promotionPullRequest(context: Context): Promise<number | undefined> {
  const { forge, ref } = context.input;
  if (!forge || !ref) return undefined;
  try {
    const pulls = await forge.listPullRequestsOfCommit(ref);
    return (pulls.find((pull) => pull.merged) ?? pulls[0])?.number;
  } catch {
    return undefined; // No PR to comment on is not a failed deploy.
  }
}

/**
 * Step 6's reporting (never fails the deploy): the update metrics as a JSON file and, when a
 * Pushgateway is configured, pushed there; then every notification channel the pin names.
 */
async function finish(context: Context, report: DeployReport): Promise<string> {
  const { input, env } = context;
  // Loaded when a deploy reaches this step: e-mail, templates and prom-client are not needed
  // to start (the action's cold start).
  const { notifyDeploy } = await import("../notify/notify-deploy.js");
  const {
    buildUpdateRegistry,
    pushUpdateMetrics,
    toUpdateMetrics,
    updateGroupings,
    writeUpdateMetricsFile,
  } = await import("../notify/update-metrics.js");
  const parts: string[] = [];
  const metrics = toUpdateMetrics(report);
  const file =
    input.metricsFile ??
    join(env.RUNNER_TEMP ?? privateStateDir(), `pinline-update-${input.environment}.json`);
  await writeUpdateMetricsFile(file, metrics);
  parts.push(`metrics → ${file}`);
  const gateway = env.PINLINE_PUSHGATEWAY_URL;
  if (gateway) {
    try {
      await pushUpdateMetrics(buildUpdateRegistry(metrics), {
        gatewayUrl: gateway,
        groupings: updateGroupings(metrics),
      });
      parts.push("pushed to the Pushgateway");
    } catch (error) {
      parts.push(`Pushgateway: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const results = await notifyDeploy({
    report,
    notify: context.pin.notify,
    env,
    forge: input.forge,
    pullRequest: input.pullRequest ?? (await promotionPullRequest(context)),
    log: (line) => input.log(`  ${line}`),
  });
  for (const result of results) {
    parts.push(
      `${result.channel}: ${result.ok ? "sent" : result.skipped ? "not configured" : result.detail}`,
    );
  }
  return parts.join("; ");
}

async function rollBack(
  context: Context,
  state: {
    databaseUrl: string | undefined;
    migrated: boolean;
    applied: boolean;
    failure: StepRecord;
    measurements: HealthMeasurement[];
  },
): Promise<NonNullable<DeployReport["rollback"]>> {
  const { input, from, to, now } = context;
  const steps = new StepRunner(now, input.log, "rollback: ");
  input.log(`rolling back ${input.environment} to ${from}`);
  if (state.migrated && state.databaseUrl) {
    const databaseUrl = state.databaseUrl;
    await steps.run("migrate", async () => {
      const result = await migrate({
        root: input.root,
        target: from,
        databaseUrl,
        appliedBy: `pinline rollback ${input.environment}`,
        onProgress: (event) => input.log(`  ${event.message}`),
      });
      return result.summary;
    });
  }
  if (state.applied) {
    const manifest = context.previousManifest;
    await steps.run("apply", async () => {
      if (!manifest)
        throw new RefusedError(`releases/${from} does not exist: cannot apply it again`);
      return applyVersion(context, from, manifest);
    });
  }
  // What the rollback changed is checked like the deploy was: the previous version must be
  // healthy again, or the environment may be running nothing healthy — critical.
  const measurements: HealthMeasurement[] = [];
  let critical: string | undefined;
  const undoFailure = steps.failure;
  if (undoFailure) {
    critical = `${input.environment} may be running no healthy version: the rollback's ${undoFailure.name} step failed (${undoFailure.detail})`;
  } else if (state.migrated || state.applied) {
    const healthy = await steps.run("health", async () => {
      try {
        return `the previous version ${from} is healthy: ${await checkHealth(context, measurements)}`;
      } catch (error) {
        const why = error instanceof PinlineError ? error.describe() : String(error);
        throw new PinlineError(`the previous version ${from} is unhealthy too: ${why}`);
      }
    });
    const health = steps.steps.at(-1);
    if (!healthy && health) {
      critical = `${input.environment} may be running no healthy version: ${health.detail}`;
    }
  }
  if (critical) input.log(`rollback: CRITICAL: ${critical}`);
  const request: RevertRequest = {
    environment: input.environment,
    file: context.file,
    from: to,
    to: from,
    reason: `${state.failure.name} failed: ${state.failure.detail}`,
    measurements: state.measurements,
    runUrl: input.runUrl,
    ...(critical ? { critical } : {}),
  };
  let revert: NonNullable<DeployReport["rollback"]>["revert"];
  await steps.run("revert", async () => {
    if (from === to) return "no earlier version to restore in the pin";
    if (input.forge) {
      const result = await openRevert({
        forge: input.forge,
        request,
        base: input.base,
        merge: context.policy.rollback?.automatic !== false,
      });
      revert = {
        pullRequest: result.pullRequest.number,
        url: result.pullRequest.htmlUrl,
        merged: result.merged,
      };
      const merged = result.merged
        ? "merged"
        : result.mergeError
          ? `left open: ${result.mergeError}`
          : "left open for review (rollback.automatic is false)";
      return `revert PR #${result.pullRequest.number} ${result.action}, ${merged}`;
    }
    const { commit } = await commitRevert({ root: input.root, request });
    revert = { commit };
    return `revert committed locally as ${commit.slice(0, 7)} (no GitHub: push it to share it)`;
  });
  return {
    steps: steps.steps,
    ...(measurements.length > 0 ? { measurements } : {}),
    ...(critical ? { critical } : {}),
    ...(revert ? { revert } : {}),
  };
}
