/**
 * `pinline migrate`: brings a database to a release's schema (DESIGN §2 deploy step 3, §6).
 *
 * On one dedicated connection, holding the migration lock for the whole run:
 * 1. create pinline_schema_migrations if missing, read it, refuse a dirty history;
 * 2. derive the database's version from the history, verify the checksum of every applied file
 *    against releases/ (and that it still exists);
 * 3. plan the chain from that version to the target, read every file to run and refuse one that
 *    cannot run as marked — all before the first statement runs;
 * 4. run the files in order, each with its history row (see apply-migration.ts), then wait until
 *    what they committed is durable.
 * A dry run does 2 and 3 without the lock and without creating the table; `repair` deletes the
 * dirty rows a failed non-transactional migration left.
 */
import { join } from "node:path";
import type pg from "pg";
import { PinlineError, RefusedError, UsageError } from "../core/errors.js";
import { compareVersions } from "../core/version.js";
import { loadTree } from "../repo/load-tree.js";
import { applyMigration, flushCommitted, MigrationFailedError } from "./apply-migration.js";
import {
  type DatabaseState,
  type Direction,
  deriveDatabaseState,
  describeState,
  type HistoryRow,
} from "./derive-schema-version.js";
import {
  deleteDirtyRows,
  HISTORY_TABLE,
  type HistoryLocation,
  type HistoryTable,
  mayDropPrepared,
  prepareInsertApplied,
} from "./history.js";
import {
  connect,
  disconnect,
  type MigrationLock,
  openHistory,
  releaseLock,
  requireLockHeld,
  takeLock,
} from "./migration-session.js";
import { loadSqlParser } from "./parse-sql.js";
import { type LineCrossing, type PlannedStep, planMigration } from "./plan-migration.js";
import {
  checkRunnable,
  checksumOf,
  type MigrationFile,
  MigrationFileError,
  pathOf,
  readIfExists,
  readMigrationFile,
} from "./read-migration-file.js";
import {
  type ChainRelease,
  chainTo,
  EMPTY_DATABASE,
  findTargetRelease,
  type ReleaseChains,
  readReleaseChains,
} from "./read-release-chain.js";
import { settleCommits } from "./settle-commits.js";

export { MigrationFailedError } from "./apply-migration.js";
export { describeOperator } from "./describe-operator.js";
export { MigrationFileError } from "./read-migration-file.js";
export { EMPTY_DATABASE } from "./read-release-chain.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 1000;
export const DEFAULT_LOCK_ATTEMPTS = 3;
/** How long a run whose server went away tries to reconnect, to say which commits survived. */
export const DEFAULT_RECOVERY_WAIT_MS = 30_000;
export interface MigrateInput {
  /** The repository: releases/ is read from it. */
  root: string;
  /** A release (version or folder name), or "none" to roll everything back. */
  target: string;
  databaseUrl: string;
  /** Plan and print, change nothing (the history table is read if it exists, never created). */
  dryRun?: boolean;
  /** Delete the dirty history rows a failed non-transactional migration left; run nothing. */
  repair?: boolean;
  /** Wait this long for another run's lock (default 0: fail at once). */
  lockWaitMs?: number;
  /** lock_timeout of every migration statement (default 1000 ms). */
  lockTimeoutMs?: number;
  /** How many times a statement that hit lock_timeout is tried in all (default 3). */
  lockAttempts?: number;
  /** statement_timeout (default 0: none). */
  statementTimeoutMs?: number;
  /**
   * After the server went away mid-run, how long to try reconnecting to read which commits
   * survived (default 30 s).
   */
  recoveryWaitMs?: number;
  /**
   * Where the history lives (see locateHistoryTable): a schema of its own, or schemas whose
   * history is someone else's and never adopted.
   */
  history?: HistoryLocation;
  /** Who runs it, recorded beside the database role: "alice@runner-7" (see describeOperator). */
  appliedBy?: string;
  onProgress?: (event: MigrationEvent) => void;
  /**
   * Verifies the signatures of a release whose files the run would apply or roll back, before
   * anything runs, and returns the sha256 its verified manifest lists for each file. Without
   * it, files are checked only against the manifest in the tree (`pinline migrate --unsigned`).
   */
  verifyRelease?: (folder: string) => Promise<ReadonlyMap<string, string>>;
}

export interface MigrationStepResult {
  release: string;
  /** Relative to the release folder, as the history records it. */
  file: string;
  /** Relative to the repository: "releases/2.4.1/migrations/2.4.0-2.4.1.sql". */
  path: string;
  direction: Direction;
  transactional: boolean;
  /** The file's sha256, as its history row records it. */
  checksum: string;
  durationMs: number;
  /**
   * "applied": committed and durable (a run reports nothing else as applied); "skipped": already
   * applied by an earlier run that stopped half-way. Only in a failed run's report: "committed"
   * (durability not known: the server went away and did not come back in time), "lost" (its
   * commit did not survive the server going away), "in-doubt" (undecided).
   */
  status: "applied" | "planned" | "skipped" | "committed" | "lost" | "in-doubt";
}

export interface RepairedRow {
  release: string;
  file: string;
  path: string;
  failedAt: string;
  error: string | null;
}

export interface MigrationResult {
  /** The database's version before the run; null for an empty database. */
  from: string | null;
  /** The target release, or "none". */
  to: string;
  steps: MigrationStepResult[];
  dryRun: boolean;
  /** What happened, in a sentence (a dry run lists the plan, one step a line). */
  summary: string;
  /** The rows `repair` deleted (or would delete, in a dry run). */
  repaired?: RepairedRow[];
}

export type MigrationEvent =
  | { type: "lock-wait"; message: string; holder: string; waitMs: number }
  | { type: "plan"; message: string; from: string | null; to: string; steps: MigrationStepResult[] }
  | {
      type: "step-start" | "step-done";
      message: string;
      step: MigrationStepResult;
      /** 1-based, among the steps that run. */
      index: number;
      total: number;
    }
  | {
      type: "retry";
      message: string;
      step: MigrationStepResult;
      attempt: number;
      attempts: number;
      delayMs: number;
      sqlstate: string;
    }
  | { type: "notice"; message: string }
  /** Every commit of the run reached disk: only now are its migrations applied. */
  | { type: "durable"; message: string };

interface Settings {
  lockWaitMs: number;
  lockTimeoutMs: number;
  lockAttempts: number;
  statementTimeoutMs: number;
  recoveryWaitMs: number;
}

/** Migrates (or rolls back) the database to `input.target`. See the module comment. */
export async function migrate(input: MigrateInput): Promise<MigrationResult> {
  const settings = readSettings(input);
  const tree = await loadTree(input.root);
  const chains = readReleaseChains(tree);
  const target = findTargetRelease(tree, chains, input.target);
  if (target) chainTo(chains, target.version);
  const to = target?.version ?? EMPTY_DATABASE;
  const emit = (event: MigrationEvent) => {
    try {
      input.onProgress?.(event);
    } catch {
      // A progress printer that fails must not fail the migration half-way.
    }
  };

  const client = await connect(input.databaseUrl, settings);
  client.on("notice", (notice) =>
    emit({ type: "notice", message: `${notice.severity ?? "NOTICE"}: ${notice.message}` }),
  );
  let lock: MigrationLock | undefined;
  try {
    if (!input.dryRun) lock = await takeLock(input.databaseUrl, settings, lockWait(settings, emit));
    const { table, history } = await openHistory(client, {
      databaseUrl: input.databaseUrl,
      history: input.history,
      create: !input.dryRun,
    });

    if (input.repair)
      return await repair(client, table, chains, history, to, input.dryRun === true);
    refuseDirty(chains, history);
    const state = deriveDatabaseState(chains, history);
    verifyChecksums(input.root, chains, state.inEffect);

    const plan = planMigration(chains, state, target?.version ?? null);
    if (input.verifyRelease) await verifyPlanned(chains, plan.steps, input.verifyRelease);
    // PostgreSQL's own parser reads every file before anything runs (loaded only when there are
    // files: an up-to-date database costs no WebAssembly start-up).
    if (plan.steps.length > 0) await loadSqlParser();
    const files = plan.steps.map((step) => readStep(input.root, chains, step));
    for (const [i, file] of files.entries()) {
      if (plan.steps[i]?.status === "planned") checkRunnable(file);
    }
    const steps = plan.steps.map((step, i) => stepResult(step, files[i] as MigrationFile));
    emit({
      type: "plan",
      from: state.version,
      to,
      steps,
      message: describePlan(state, to, steps, plan.via),
    });

    if (input.dryRun) {
      return {
        from: state.version,
        to,
        steps,
        dryRun: true,
        summary: dryRunSummary(state, to, steps, plan.via),
      };
    }
    const started = performance.now();
    // Nothing is reported applied before it is durable; after a crash, the history says what
    // survived (settle-commits.ts).
    const settle = () =>
      settleCommits({
        steps,
        client,
        flush: (session) => flushCommitted(session),
        reconnect: () => connect(input.databaseUrl, settings),
        table,
        sinceId: history.reduce((newest, row) => Math.max(newest, row.id), 0),
        recoveryWaitMs: settings.recoveryWaitMs,
      });
    try {
      await runSteps(client, table, files, steps, settings, input.appliedBy, emit, lock);
    } catch (error) {
      const settled = await settle();
      throw settled ? withAftermath(error, settled) : error;
    }
    const settled = await settle();
    if (settled) {
      throw new PinlineError(`the run's commits may not be durable: ${settled}`, {
        hint: "nothing is reported applied that the history does not show after the server came back",
      });
    }
    emit({ type: "durable", message: durableMessage(steps) });
    return {
      from: state.version,
      to,
      steps,
      dryRun: false,
      summary: runSummary(state, to, steps, performance.now() - started, plan.via),
    };
  } finally {
    await disconnect(client);
    if (lock) await releaseLock(lock);
  }
}

/** Waiting for another run's lock, as the settings allow, saying so. */
function lockWait(
  settings: { lockWaitMs: number },
  emit: (event: MigrationEvent) => void,
): { waitMs: number; onWait: (holder: string) => void } {
  return {
    waitMs: settings.lockWaitMs,
    onWait: (holder) =>
      emit({
        type: "lock-wait",
        holder,
        waitMs: settings.lockWaitMs,
        message: `another run holds the migration lock (${holder}); waiting up to ${settings.lockWaitMs} ms`,
      }),
  };
}

function readSettings(input: MigrateInput): Settings {
  const read = (name: string, value: number | undefined, fallback: number, minimum: number) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < minimum) {
      throw new UsageError(`${name} must be a whole number of ${minimum} or more, not ${value}`);
    }
    return value;
  };
  return {
    lockWaitMs: read("lockWaitMs", input.lockWaitMs, 0, 0),
    lockTimeoutMs: read("lockTimeoutMs", input.lockTimeoutMs, DEFAULT_LOCK_TIMEOUT_MS, 0),
    lockAttempts: read("lockAttempts", input.lockAttempts, DEFAULT_LOCK_ATTEMPTS, 1),
    statementTimeoutMs: read("statementTimeoutMs", input.statementTimeoutMs, 0, 0),
    recoveryWaitMs: read("recoveryWaitMs", input.recoveryWaitMs, DEFAULT_RECOVERY_WAIT_MS, 0),
  };
}

/** Refuses to run on a history with rows left by a failed non-transactional migration. */
function refuseDirty(chains: ReleaseChains, history: readonly HistoryRow[]): void {
  const dirty = history.find((row) => !row.success);
  if (!dirty) return;
  const release = chains.get(dirty.version);
  const path = release ? pathOf(release, dirty.file) : `${dirty.version}/${dirty.file}`;
  throw new RefusedError(
    `the history is dirty: ${path} of ${dirty.version} failed at ${dirty.appliedAt.toISOString()}${dirty.error ? ` (${dirty.error})` : ""} — fix the database by hand, then run pinline migrate --repair`,
    {
      hint: "it ran outside a transaction, so part of it may be applied; repair forgets the failed attempt, and the next run runs the file again",
    },
  );
}

/** Every applied file must still exist and hash as it did when it ran. */
function verifyChecksums(root: string, chains: ReleaseChains, rows: readonly HistoryRow[]): void {
  for (const row of rows) {
    const release = chains.get(row.version);
    if (!release) continue; // deriveDatabaseState refused it already
    const path = pathOf(release, row.file);
    const content = release.contents.has(row.file) ? readIfExists(join(root, path)) : undefined;
    if (!content) {
      throw new RefusedError(
        `${path} was applied (${row.direction}, ${row.appliedAt.toISOString()}) but no longer exists`,
        { hint: "an applied file must stay in its release: restore it" },
      );
    }
    const now = checksumOf(content);
    const listed = release.sha256.get(row.file);
    if (now === row.checksum && listed !== undefined && listed !== now) {
      throw new MigrationFileError(
        `releases/${release.folder}/release.yaml lists sha256 ${listed} for ${row.file}, but the file applied (${row.direction}, ${row.appliedAt.toISOString()}) and the file on disk hash to ${now}`,
        {
          where: { file: `releases/${release.folder}/release.yaml` },
          hint: "the manifest changed after the file ran: restore the manifest as it was signed",
        },
      );
    }
    if (now !== row.checksum) {
      throw new MigrationFileError(
        `${path} changed after it was applied: checksum ${row.checksum} in ${HISTORY_TABLE}, ${now} now`,
        {
          where: { file: path },
          hint: "an applied file must not change: restore it (git log -p), and put the change in a new release's migration",
        },
      );
    }
  }
}

/**
 * Every release with a file to run must verify, and its verified manifest must list exactly
 * the sha256 the run checks files against (the manifest did not change in between).
 */
async function verifyPlanned(
  chains: ReleaseChains,
  steps: readonly PlannedStep[],
  verify: NonNullable<MigrateInput["verifyRelease"]>,
): Promise<void> {
  const versions = [...new Set(steps.filter((s) => s.status === "planned").map((s) => s.release))];
  for (const version of versions) {
    const release = chains.get(version) as ChainRelease;
    const verified = await verify(release.folder);
    for (const [file, sha256] of release.sha256) {
      if (verified.get(file) !== sha256) {
        throw new RefusedError(
          `releases/${release.folder}/release.yaml changed while the run read it: the verified manifest lists ${verified.get(file) ?? "no sha256"} for ${file}, the one read lists ${sha256}`,
          { hint: "nothing was run; run again on a checkout no one is changing" },
        );
      }
    }
  }
}

function readStep(root: string, chains: ReleaseChains, step: PlannedStep): MigrationFile {
  const release = chains.get(step.release) as ChainRelease; // the plan only names known releases
  return readMigrationFile(root, release, step.file, step.direction);
}

function stepResult(step: PlannedStep, file: MigrationFile): MigrationStepResult {
  return {
    release: step.release,
    file: step.file,
    path: file.path,
    direction: step.direction,
    transactional: file.transactional,
    checksum: file.checksum,
    durationMs: 0,
    status: step.status,
  };
}

async function runSteps(
  client: pg.Client,
  table: HistoryTable,
  files: readonly MigrationFile[],
  steps: MigrationStepResult[],
  settings: Settings,
  appliedBy: string | undefined,
  emit: (event: MigrationEvent) => void,
  lock: MigrationLock | undefined,
): Promise<void> {
  const total = steps.filter((s) => s.status === "planned").length;
  let index = 0;
  // The prepared INSERT serves every file up to the first that might drop it.
  let insertPrepared = steps.some((s) => s.status === "planned" && s.transactional);
  if (insertPrepared) await prepareInsertApplied(client, table);
  const last = steps.findLastIndex((s) => s.status === "planned");
  for (const [i, step] of steps.entries()) {
    if (step.status !== "planned") continue;
    index++;
    const file = files[i] as MigrationFile;
    if (lock) await requireLockHeld(lock, step.path, index - 1);
    if (mayDropPrepared(file.text)) insertPrepared = false;
    emit({
      type: "step-start",
      step,
      index,
      total,
      message: `${verbOf(step)} ${step.path}${step.transactional ? "" : " (no transaction)"} (${index}/${total})`,
    });
    let applied: { durationMs: number };
    try {
      applied = await applyMigration(client, table, file, {
        lockTimeoutMs: settings.lockTimeoutMs,
        statementTimeoutMs: settings.statementTimeoutMs,
        lockAttempts: settings.lockAttempts,
        appliedBy,
        insertPrepared,
        // The last commit waits for the flush, and so makes every earlier one durable.
        durableCommit: i === last,
        onRetry: (retry) =>
          emit({
            type: "retry",
            step,
            attempt: retry.attempt,
            attempts: retry.attempts,
            delayMs: retry.delayMs,
            sqlstate: retry.sqlstate,
            message: `${step.path}: ${retry.message}; attempt ${retry.attempt} of ${retry.attempts} in ${retry.delayMs} ms`,
          }),
      });
    } catch (error) {
      if (error instanceof MigrationFailedError && error.inDoubt) step.status = "in-doubt";
      throw error;
    }
    // A transactional file's commit is durable only once the run's flush says so (settleCommits);
    // a non-transactional one ran with the session's synchronous_commit and is durable now.
    step.status = step.transactional ? "committed" : "applied";
    step.durationMs = Math.round(applied.durationMs);
    emit({
      type: "step-done",
      step,
      index,
      total,
      message: `${step.transactional ? "committed" : step.direction === "migrate" ? "applied" : "ran"} ${step.path} in ${step.durationMs} ms (${index}/${total})`,
    });
  }
}

/** The failed run's error, with what became of its commits said after it (never swallowed). */
function withAftermath(error: unknown, aftermath: string): Error {
  if (error instanceof Error) {
    error.message = `${error.message}. Then ${aftermath}`;
    return error;
  }
  return new PinlineError(`${String(error)}. Then ${aftermath}`);
}

function durableMessage(steps: readonly MigrationStepResult[]): string {
  const ran = steps.filter((s) => s.status === "applied").length;
  return ran === 0
    ? "nothing ran"
    : `durable: the ${ran === 1 ? "commit is" : `${ran} commits are`} on disk`;
}

function verbOf(step: MigrationStepResult): string {
  return step.direction === "migrate" ? "applying" : "rolling back with";
}

async function repair(
  client: pg.Client,
  table: HistoryTable,
  chains: ReleaseChains,
  history: readonly HistoryRow[],
  to: string,
  dryRun: boolean,
): Promise<MigrationResult> {
  const dirty = history.filter((row) => !row.success);
  const repaired = dirty.map((row) => {
    const release = chains.get(row.version);
    return {
      release: row.version,
      file: row.file,
      path: release ? pathOf(release, row.file) : `${row.version}/${row.file}`,
      failedAt: row.appliedAt.toISOString(),
      error: row.error,
    };
  });
  const clean = history.filter((row) => row.success);
  const state = safely(() => describeState(deriveDatabaseState(chains, clean)));
  const from = safely(() => deriveDatabaseState(chains, clean).version) ?? null;
  const where = state ? ` The database is at ${state}.` : "";
  if (dirty.length === 0) {
    return {
      from,
      to,
      steps: [],
      dryRun,
      repaired,
      summary: `repair: the history has no dirty rows; nothing to repair.${where}`,
    };
  }
  if (!dryRun) await deleteDirtyRows(client, table);
  const rows = repaired
    .map(
      (r) =>
        `${r.path} (release ${r.release}, failed at ${r.failedAt}${r.error ? `: ${r.error}` : ""})`,
    )
    .join("; ");
  const invalid = await invalidIndexes(client);
  const summary = [
    `repair: ${dryRun ? "would remove" : "removed"} ${dirty.length === 1 ? "the dirty history row" : `${dirty.length} dirty history rows`} of ${rows}.${where}`,
    `The next run runs ${dirty.length === 1 ? "that file" : "those files"} again from the start, so ${dirty.length === 1 ? "it" : "they"} must find the database as it was before ${dirty.length === 1 ? "it" : "them"}.`,
    ...(invalid.length > 0
      ? [
          `INVALID indexes remain (left by a failed concurrent build): ${invalid.join(", ")} — drop them before migrating again.`,
        ]
      : []),
  ].join(" ");
  return { from, to, steps: [], dryRun, repaired, summary };
}

async function invalidIndexes(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%s on %s', i.indexrelid::regclass, i.indrelid::regclass) AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

function safely<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}

function describePlan(
  state: DatabaseState,
  to: string,
  steps: readonly MigrationStepResult[],
  via: LineCrossing | undefined,
): string {
  const running = steps.filter((s) => s.status === "planned").length;
  return `plan: ${describeState(state)} → ${to}${through(via)}: ${running === 0 ? "nothing to run" : `${running} file${running === 1 ? "" : "s"} to run`}`;
}

/** " through 2.4.1 (…)": how a plan crosses from a maintenance line, or to one. */
function through(via: LineCrossing | undefined): string {
  if (!via) return "";
  const undone = via.undone.length > 0 ? `rolling back ${via.undone.join(", ")}` : "";
  const applied = via.applied.length > 0 ? `applying ${via.applied.join(", ")}` : "";
  return ` through ${via.ancestor}, the release both lines share (the ${via.maintenanceLine} maintenance line forks there: ${[undone, applied].filter(Boolean).join(", then ")})`;
}

function direction(from: string | null, to: string): "up" | "down" | "same" {
  if (from === to || (from === null && to === EMPTY_DATABASE)) return "same";
  if (to === EMPTY_DATABASE) return "down";
  if (from === null) return "up";
  return compareVersions(to, from) > 0 ? "up" : "down";
}

function dryRunSummary(
  state: DatabaseState,
  to: string,
  steps: readonly MigrationStepResult[],
  via?: LineCrossing,
): string {
  const running = steps.filter((s) => s.status === "planned");
  const at = `dry run: the database is at ${describeState(state)}`;
  if (running.length === 0)
    return `${at}; migrating to ${to} has nothing to do. Nothing was changed.`;
  const lines = steps.map(
    (s, i) =>
      `  ${i + 1}. ${s.path}  ${s.direction}  ${s.status === "skipped" ? "already applied (skipped)" : s.transactional ? "in a transaction" : "no transaction"}`,
  );
  return [
    `${at}; migrating to ${to}${through(via)} would run ${running.length} file${running.length === 1 ? "" : "s"}:`,
    ...lines,
    "Nothing was changed.",
  ].join("\n");
}

function runSummary(
  state: DatabaseState,
  to: string,
  steps: readonly MigrationStepResult[],
  elapsedMs: number,
  via?: LineCrossing,
): string {
  const ran = steps.filter((s) => s.status === "applied");
  const from = state.version ?? EMPTY_DATABASE;
  if (ran.length === 0) return `the database is already at ${to}: nothing to do`;
  const seconds = `${(elapsedMs / 1000).toFixed(1)} s`;
  const releases = new Set(ran.map((s) => s.release)).size;
  const files = `${ran.length} file${ran.length === 1 ? "" : "s"} of ${releases} release${releases === 1 ? "" : "s"}`;
  const skipped = steps.filter((s) => s.status === "skipped").length;
  const resumed = skipped > 0 ? ` (resumed: ${skipped} already applied)` : "";
  if (via)
    return `moved the database from ${from} to ${to}${through(via)}: ${files} run in ${seconds}`;
  return direction(state.version, to) === "up"
    ? `migrated the database from ${from} to ${to}: ${files} applied in ${seconds}${resumed}`
    : `rolled the database back from ${describeState(state)} to ${to}: ${files} run in ${seconds}`;
}
