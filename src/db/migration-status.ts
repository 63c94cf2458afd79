/**
 * `pinline migrate --status`: where a database stands, read-only (Flyway's info and validate in
 * one). Its version and the applied history; the files a run would apply next; and drift —
 * every applied file checked against the file on disk and the manifest that lists it (verified,
 * when a verifier is given): a file changed or missing after it ran, a manifest changed after it
 * was signed, a release that no longer verifies. Nothing is created, no lock is taken, and a
 * problem is reported, not thrown: `ok` is false when there is drift, a dirty row, or a history
 * that cannot be read into a version.
 */
import { join } from "node:path";
import { PinlineError } from "../core/errors.js";
import { compareVersions } from "../core/version.js";
import { loadTree } from "../repo/load-tree.js";
import { BASELINE_MARK } from "./baseline-database.js";
import {
  type DatabaseState,
  type Direction,
  deriveDatabaseState,
  describeState,
  type HistoryRow,
} from "./derive-schema-version.js";
import type { HistoryLocation } from "./history.js";
import { connect, disconnect, openHistory, redact } from "./migration-session.js";
import { planMigration } from "./plan-migration.js";
import { checksumOf, pathOf, readIfExists } from "./read-migration-file.js";
import {
  type ChainRelease,
  EMPTY_DATABASE,
  findTargetRelease,
  type ReleaseChains,
  readReleaseChains,
} from "./read-release-chain.js";

export interface StatusInput {
  root: string;
  databaseUrl: string;
  /** The release to compare with; default the newest release the database can migrate to. */
  target?: string | undefined;
  history?: HistoryLocation | undefined;
  verifyRelease?: ((folder: string) => Promise<ReadonlyMap<string, string>>) | undefined;
}

export interface StatusRow {
  id: number;
  release: string;
  file: string;
  path: string;
  direction: Direction;
  appliedAt: string;
  appliedBy: string;
  durationMs: number;
  success: boolean;
  error: string | null;
  /** Recorded by `migrate --baseline`, not run. */
  baseline: boolean;
}

export interface PendingFile {
  release: string;
  path: string;
  direction: Direction;
}

export interface Drift {
  path: string;
  problem: string;
}

export interface MigrationStatus {
  /** host:port/database, without credentials. */
  database: string;
  /** "public"."pinline_schema_migrations"; null when there is none yet. */
  historyTable: string | null;
  /** The database's version; null for an empty database (or an unreadable history). */
  version: string | null;
  /** "2.4.1", "2.4.0 (2.4.1 partly applied: 1 of 2 migrations)", "none". */
  state: string;
  history: StatusRow[];
  /** The release the pending files lead to; null when none can be planned. */
  target: string | null;
  pending: PendingFile[];
  drift: Drift[];
  /** The history cannot be read into a version, or no plan to the target exists. */
  problems: string[];
  ok: boolean;
}

export async function migrationStatus(input: StatusInput): Promise<MigrationStatus> {
  const tree = await loadTree(input.root);
  const chains = readReleaseChains(tree);
  const named =
    input.target === undefined ? undefined : findTargetRelease(tree, chains, input.target);
  const client = await connect(input.databaseUrl, {
    lockTimeoutMs: 1000,
    statementTimeoutMs: 30_000,
  });
  let table: string | null;
  let history: HistoryRow[];
  try {
    const opened = await openHistory(client, {
      databaseUrl: input.databaseUrl,
      history: input.history,
      create: false,
    });
    table = opened.exists ? opened.table.sql : null;
    history = opened.history;
  } finally {
    await disconnect(client);
  }

  const problems: string[] = [];
  const drift: Drift[] = [];
  let state: DatabaseState | undefined;
  try {
    state = deriveDatabaseState(
      chains,
      history.filter((row) => row.success),
    );
  } catch (error) {
    problems.push(messageOf(error));
  }
  for (const row of history.filter((r) => !r.success)) {
    problems.push(
      `dirty: ${pathFor(chains, row)} failed at ${row.appliedAt.toISOString()}${row.error ? ` (${row.error})` : ""}; fix the database by hand, then pinline migrate --repair`,
    );
  }
  if (state) drift.push(...(await driftOf(input, chains, state.inEffect)));

  let target: string | null = null;
  let pending: PendingFile[] = [];
  if (state) {
    const planned = planTo(chains, state, named === undefined ? undefined : named);
    if ("problem" in planned) problems.push(planned.problem);
    else {
      target = planned.target;
      pending = planned.pending;
    }
  }
  return {
    database: redact(input.databaseUrl),
    historyTable: table,
    version: state?.version ?? null,
    state: state ? describeState(state) : "unknown (the history cannot be read into a version)",
    history: history.map((row) => ({
      id: row.id,
      release: row.version,
      file: row.file,
      path: pathFor(chains, row),
      direction: row.direction,
      appliedAt: row.appliedAt.toISOString(),
      appliedBy: row.appliedBy,
      durationMs: row.durationMs,
      success: row.success,
      error: row.error,
      baseline:
        row.appliedBy.endsWith(`(${BASELINE_MARK})`) ||
        row.appliedBy.includes(`(${BASELINE_MARK} by `),
    })),
    target,
    pending,
    drift,
    problems,
    ok: drift.length === 0 && problems.length === 0,
  };
}

/**
 * The files to the named target, or else to the newest release the database can migrate to
 * (the first, newest first, that plans).
 */
function planTo(
  chains: ReleaseChains,
  state: DatabaseState,
  named: ChainRelease | null | undefined,
): { target: string; pending: PendingFile[] } | { problem: string } {
  const candidates =
    named !== undefined
      ? [named]
      : [...chains.values()].sort((a, b) => compareVersions(b.version, a.version));
  let first: string | undefined;
  for (const candidate of candidates) {
    if (
      named === undefined &&
      candidate !== null &&
      state.version !== null &&
      compareVersions(candidate.version, state.version) < 0
    ) {
      break; // older than the database: the newest reachable release is the database's own
    }
    try {
      const plan = planMigration(chains, state, candidate?.version ?? null);
      return {
        target: candidate?.version ?? EMPTY_DATABASE,
        pending: plan.steps
          .filter((s) => s.status === "planned")
          .map((s) => ({ release: s.release, path: pathOf(s, s.file), direction: s.direction })),
      };
    } catch (error) {
      first ??= messageOf(error);
    }
  }
  if (named === undefined && state.version !== null) return { target: state.version, pending: [] };
  return { problem: first ?? "no release to migrate to" };
}

/** Each applied file against the file on disk, its manifest, and its verified manifest. */
async function driftOf(
  input: StatusInput,
  chains: ReleaseChains,
  rows: readonly HistoryRow[],
): Promise<Drift[]> {
  const drift: Drift[] = [];
  const verified = new Map<string, ReadonlyMap<string, string> | string>();
  for (const row of rows) {
    const release = chains.get(row.version);
    if (!release) continue; // deriveDatabaseState refused it already
    const path = pathOf(release, row.file);
    const content = readIfExists(join(input.root, path));
    if (!content) {
      drift.push({
        path,
        problem: `applied ${row.appliedAt.toISOString()}, but the file no longer exists`,
      });
      continue;
    }
    const now = checksumOf(content);
    if (now !== row.checksum) {
      drift.push({
        path,
        problem: `changed after it was applied: ${row.checksum} in the history, ${now} on disk`,
      });
    }
    const listed = release.sha256.get(row.file);
    if (listed !== row.checksum) {
      drift.push({
        path,
        problem: `releases/${release.folder}/release.yaml lists ${listed ?? "no sha256"}, the history ${row.checksum}`,
      });
    }
    if (input.verifyRelease) {
      if (!verified.has(release.folder)) {
        try {
          verified.set(release.folder, await input.verifyRelease(release.folder));
        } catch (error) {
          verified.set(release.folder, messageOf(error));
        }
      }
      const check = verified.get(release.folder);
      if (typeof check === "string") {
        if (!drift.some((d) => d.path === `releases/${release.folder}/release.yaml`)) {
          drift.push({
            path: `releases/${release.folder}/release.yaml`,
            problem: `does not verify: ${check}`,
          });
        }
      } else if (check && check.get(row.file) !== row.checksum) {
        drift.push({
          path,
          problem: `the verified manifest lists ${check.get(row.file) ?? "no sha256"}, the history ${row.checksum}`,
        });
      }
    }
  }
  return drift;
}

function pathFor(chains: ReleaseChains, row: HistoryRow): string {
  const release = chains.get(row.version);
  return release ? pathOf(release, row.file) : `${row.version}/${row.file}`;
}

function messageOf(error: unknown): string {
  return error instanceof PinlineError
    ? error.describe()
    : error instanceof Error
      ? error.message
      : String(error);
}

/** The status as text: a terminal's, and the job summary's first lines. */
export function renderStatus(status: MigrationStatus): string {
  const lines = [
    `database  ${status.database}${status.historyTable ? ` (history: ${status.historyTable})` : " (no history table: pinline never migrated it)"}`,
    `version   ${status.state}`,
  ];
  const baselined = status.history.filter((row) => row.baseline).length;
  lines.push(
    `history   ${status.history.length} row${status.history.length === 1 ? "" : "s"}${baselined > 0 ? ` (${baselined} recorded by a baseline)` : ""}`,
  );
  for (const row of status.history) {
    const mark = !row.success ? "✗" : row.baseline ? "⊙" : "✓";
    lines.push(
      `  ${mark} #${row.id}  ${row.direction.padEnd(8)}  ${row.path}  ${row.appliedAt}  ${row.appliedBy}${row.baseline ? "" : `  ${row.durationMs} ms`}${row.error ? `  ${row.error}` : ""}`,
    );
  }
  if (status.target !== null) {
    lines.push(
      status.pending.length === 0
        ? `pending   none: the database is at ${status.target}`
        : `pending   ${status.pending.length} file${status.pending.length === 1 ? "" : "s"} to ${status.target}:`,
    );
    for (const file of status.pending) lines.push(`  · ${file.direction.padEnd(8)}  ${file.path}`);
  }
  lines.push(status.drift.length === 0 ? "drift     none" : `drift     ${status.drift.length}:`);
  for (const d of status.drift) lines.push(`  ✗ ${d.path}: ${d.problem}`);
  for (const problem of status.problems) lines.push(`problem   ${problem}`);
  return `${lines.join("\n")}\n`;
}
