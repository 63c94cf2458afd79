/**
 * `pinline migrate --baseline <version>`: brings an existing database under pinline (Flyway's
 * baseline). The database already has the schema of a release, built before pinline ran it —
 * by hand, by another tool — so its history records every migration of that release's chain as
 * applied, without running any. From then on `pinline migrate` runs only what comes after.
 *
 * Refused when the database already has a history (a baseline never rewrites what pinline
 * recorded), and when it holds no table at all (an empty database needs migrations, not a
 * baseline). The releases on the chain must verify as they would for a run: their files are
 * what later runs check the database against. The rows are written in one transaction, holding
 * the migration lock, and say who baselined it: applied_by "postgres (baseline by alice)".
 */
import { join } from "node:path";
import type pg from "pg";
import { RefusedError, UsageError } from "../core/errors.js";
import { loadTree } from "../repo/load-tree.js";
import type { HistoryLocation } from "./history.js";
import {
  connect,
  disconnect,
  type MigrationLock,
  openHistory,
  redact,
  releaseLock,
  takeLock,
} from "./migration-session.js";
import { checksumOf, pathOf, readIfExists } from "./read-migration-file.js";
import {
  type ChainRelease,
  chainTo,
  EMPTY_DATABASE,
  findTargetRelease,
  readReleaseChains,
} from "./read-release-chain.js";

/** What applied_by carries after the role for a baseline's rows. */
export const BASELINE_MARK = "baseline";

export interface BaselineInput {
  root: string;
  /** The release whose schema the database has now. */
  version: string;
  databaseUrl: string;
  history?: HistoryLocation;
  /** Who baselines it: "alice". */
  appliedBy?: string;
  /** Wait this long for another run's lock (default 0). */
  lockWaitMs?: number;
  /** As for migrate: the sha256 the verified manifest lists for each file of a release. */
  verifyRelease?: (folder: string) => Promise<ReadonlyMap<string, string>>;
}

export interface BaselineResult {
  version: string;
  /** The releases of the chain, first release first. */
  releases: string[];
  /** How many history rows were written: one per migration of the chain. */
  rows: number;
  summary: string;
}

export async function baselineDatabase(input: BaselineInput): Promise<BaselineResult> {
  const tree = await loadTree(input.root);
  const chains = readReleaseChains(tree);
  const target = findTargetRelease(tree, chains, input.version);
  if (!target) {
    throw new UsageError(
      `a baseline names the release whose schema the database has, not ${EMPTY_DATABASE}`,
      { hint: "for an empty database, run pinline migrate --release <version> instead" },
    );
  }
  const chain = chainTo(chains, target.version);
  const files = await checkedFiles(input, chain);

  const settings = { lockTimeoutMs: 1000, statementTimeoutMs: 0 };
  const client = await connect(input.databaseUrl, settings);
  let lock: MigrationLock | undefined;
  try {
    lock = await takeLock(input.databaseUrl, settings, {
      waitMs: input.lockWaitMs ?? 0,
      onWait: () => {},
    });
    const { table, history } = await openHistory(client, {
      databaseUrl: input.databaseUrl,
      history: input.history,
      create: true,
    });
    if (history.length > 0) {
      throw new RefusedError(
        `the database ${redact(input.databaseUrl)} already has a history (${history.length} row${history.length === 1 ? "" : "s"} in ${table.sql}): a baseline is only for a database pinline never migrated`,
        { hint: "pinline migrate --status shows where it stands; pinline migrate takes it on" },
      );
    }
    const tables = await applicationTables(client, table.schema);
    if (tables === 0) {
      throw new RefusedError(
        `the database ${redact(input.databaseUrl)} has no tables, so it cannot have the schema of ${target.version}`,
        {
          hint: `an empty database needs its migrations: pinline migrate --release releases/${target.folder}`,
        },
      );
    }
    const by = `${BASELINE_MARK}${input.appliedBy ? ` by ${input.appliedBy}` : ""}`;
    await client.query("BEGIN");
    try {
      // One statement for the whole chain, in its order (the ids follow it).
      await client.query(
        `INSERT INTO ${table.sql} (version, file, direction, checksum, duration_ms, applied_by, success)
         SELECT version, file, 'migrate', checksum, 0, current_user || $4, true
           FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS f(version, file, checksum, n)
          ORDER BY n`,
        [
          files.map((f) => f.release),
          files.map((f) => f.file),
          files.map((f) => f.checksum),
          ` (${by})`,
        ],
      );
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } finally {
    await disconnect(client);
    if (lock) await releaseLock(lock);
  }
  const releases = chain.map((r) => r.version);
  return {
    version: target.version,
    releases,
    rows: files.length,
    summary: `baselined the database at ${target.version}: recorded ${files.length} migration${files.length === 1 ? "" : "s"} of ${releases.length} release${releases.length === 1 ? "" : "s"} (${releases.join(" → ")}) as applied, without running them`,
  };
}

interface BaselineFile {
  release: string;
  file: string;
  checksum: string;
}

/**
 * Every migration of the chain, its bytes hashing to what its (verified) manifest lists: the
 * history records that sha256, and later runs hold the files to it.
 */
async function checkedFiles(
  input: BaselineInput,
  chain: readonly ChainRelease[],
): Promise<BaselineFile[]> {
  const files: BaselineFile[] = [];
  for (const release of chain) {
    if (release.migrations.length === 0) continue;
    const verified = input.verifyRelease ? await input.verifyRelease(release.folder) : undefined;
    for (const file of release.migrations) {
      const path = pathOf(release, file);
      const listed = release.sha256.get(file) as string;
      const content = readIfExists(join(input.root, path));
      if (!content) {
        throw new RefusedError(
          `${path} is missing: the baseline records every migration of the chain`,
          {
            hint: "restore the release folder as it was signed",
          },
        );
      }
      const actual = checksumOf(content);
      if (actual !== listed || (verified && verified.get(file) !== listed)) {
        throw new RefusedError(
          `${path} hashes to ${actual}, but ${verified ? "the verified manifest" : "its manifest"} lists ${verified?.get(file) ?? listed}`,
          { hint: "restore the file as its release was signed; nothing was recorded" },
        );
      }
      files.push({ release: release.version, file, checksum: listed });
    }
  }
  return files;
}

/** Tables and views outside the system schemas, the history itself not counted. */
async function applicationTables(client: pg.ClientBase, historySchema: string): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    `SELECT count(*) AS count FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
        AND NOT (n.nspname = $1 AND c.relname = 'pinline_schema_migrations')`,
    [historySchema],
  );
  return Number(rows[0]?.count ?? 0);
}
