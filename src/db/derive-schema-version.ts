/**
 * Where the database stands, derived from its history alone (pure: rows and releases in, state
 * out). The history is an append-only log — migrations and rollbacks are both recorded — and it
 * is replayed in order, release by release:
 *
 * - a `migrate` row adds its file to the release's applied set (a release that had been rolled
 *   back starts a new application);
 * - a `rollback` row starts (or continues) the release's rollback; when every rollback script of
 *   the release has run, the release is no longer applied at all.
 *
 * A release is then applied (every migration applied), partly applied (some), partly rolled back
 * (some of its rollback scripts ran), or not applied. The applied releases must form one chain
 * from a first release; the database's version is the newest of them ("none" when there is
 * none), and at most one release beyond it may be partly applied or partly rolled back.
 *
 * Example: 2.0.0 migrate, 2.3.0 migrate, 2.4.0 migrate, 2.4.1 migrate ×2, then 2.4.1 rollback ×2
 * → 2.4.1 is not applied, the version is 2.4.0. Had only the first 2.4.1 migration committed,
 * the version would be 2.4.0 with 2.4.1 partly applied (1 of 2).
 */
import { RefusedError } from "../core/errors.js";
import { compareVersions } from "../core/version.js";
import { type ChainRelease, chainTo, type ReleaseChains } from "./read-release-chain.js";

export type Direction = "migrate" | "rollback";

/** One row of pinline_schema_migrations. */
export interface HistoryRow {
  id: number;
  /** The release the file belongs to. */
  version: string;
  /** Relative to the release folder: "migrations/2.4.0-2.4.1.sql". */
  file: string;
  direction: Direction;
  checksum: string;
  appliedAt: Date;
  durationMs: number;
  appliedBy: string;
  /** false: a non-transactional migration failed or never finished; the history is dirty. */
  success: boolean;
  error: string | null;
}

export interface PartialRelease {
  release: ChainRelease;
  direction: Direction;
  /** Files of that direction already run, in the manifest's order. */
  done: string[];
  /** Files of that direction still to run, in the manifest's order. */
  remaining: string[];
}

export interface DatabaseState {
  /** The newest applied release; null for an empty database ("none"). */
  version: string | null;
  /** A release beyond `version` whose migrations, or whose rollback, stopped half-way. */
  partial?: PartialRelease;
  /** The rows whose files are in effect now: their checksums must still match. */
  inEffect: HistoryRow[];
}

interface Replay {
  phase: Direction;
  rows: Map<string, HistoryRow>;
  rolledBack: Map<string, HistoryRow>;
}

/** Replays the successful rows (dirty ones are the caller's to refuse first). */
export function deriveDatabaseState(
  chains: ReleaseChains,
  history: readonly HistoryRow[],
): DatabaseState {
  const replays = new Map<string, Replay>();
  for (const row of [...history].sort((a, b) => a.id - b.id)) {
    if (!row.success) continue;
    const release = releaseOf(chains, row);
    let replay = replays.get(release.version);
    if (row.direction === "migrate") {
      if (!replay || replay.phase === "rollback") {
        replay = { phase: "migrate", rows: new Map(), rolledBack: new Map() };
        replays.set(release.version, replay);
      }
      replay.rows.set(row.file, row);
    } else {
      if (!replay) {
        throw inconsistent(`it rolls back ${describeRow(release, row)} of a release never applied`);
      }
      if (replay.phase === "migrate") {
        replay.phase = "rollback";
        replay.rolledBack = new Map();
      }
      replay.rolledBack.set(row.file, row);
      // Every file of rolledBack is on the rollback list (releaseOf checked): all of them ran
      // when the counts match. Comparing counts keeps a long rollback linear.
      if (replay.rolledBack.size === listed(release, "rollback").size) {
        replays.delete(release.version);
      }
    }
  }

  const applied: ChainRelease[] = [];
  const partials: PartialRelease[] = [];
  const inEffect: HistoryRow[] = [];
  for (const [version, replay] of replays) {
    const release = chains.get(version) as ChainRelease;
    inEffect.push(...replay.rows.values(), ...replay.rolledBack.values());
    const list = replay.phase === "migrate" ? release.migrations : release.rollback;
    const done = replay.phase === "migrate" ? replay.rows : replay.rolledBack;
    const remaining = list.filter((file) => !done.has(file));
    if (replay.phase === "migrate" && remaining.length === 0) applied.push(release);
    else {
      partials.push({
        release,
        direction: replay.phase,
        done: list.filter((file) => done.has(file)),
        remaining,
      });
    }
  }
  inEffect.sort((a, b) => a.id - b.id);

  if (partials.length > 1) {
    throw inconsistent(
      `releases ${partials.map((p) => p.release.version).join(" and ")} are each partly applied or partly rolled back; at most one can be`,
    );
  }
  const partial = partials[0];
  const version = newestOnOneChain(chains, applied, partial);
  return partial ? { version, partial, inEffect } : { version, inEffect };
}

/** The newest applied release, after checking that the applied releases form one chain. */
function newestOnOneChain(
  chains: ReleaseChains,
  applied: readonly ChainRelease[],
  partial: PartialRelease | undefined,
): string | null {
  const appliedVersions = new Set(applied.map((r) => r.version));
  // The longest chain among the applied releases (and the partial one) must hold all of them.
  // Its tip is found by chain length, memoised along the shared links: building every tip's
  // chain would be quadratic in the number of releases.
  const tips = partial ? [partial.release] : applied;
  const lengths = new Map<string, number>();
  let longestTip: ChainRelease | undefined;
  let longestLength = 0;
  for (const tip of tips) {
    const length = chainLength(chains, tip, lengths);
    if (length > longestLength) {
      longestTip = tip;
      longestLength = length;
    }
  }
  const longest = longestTip ? chainTo(chains, longestTip.version) : [];
  const onChain = new Set(longest.map((r) => r.version));
  for (const release of applied) {
    if (!onChain.has(release.version)) {
      const tip = longest.at(-1)?.version;
      throw inconsistent(
        `release ${release.version} is applied, but it is not on the chain of ${tip} (${longest.map((r) => r.version).join(" → ")})`,
      );
    }
  }
  const below = partial ? longest.slice(0, -1) : longest;
  let version: string | null = null;
  for (const release of below) {
    if (appliedVersions.has(release.version)) {
      version = release.version;
    } else if (release.migrations.length > 0) {
      const above = partial?.release.version ?? longest.at(-1)?.version;
      throw inconsistent(
        `release ${above} is ${partial ? "partly " : ""}applied, but release ${release.version} below it is not`,
      );
    }
  }
  return version;
}

/**
 * chainTo(release).length, remembering the length of every release on the way in `lengths`.
 * A link chainTo would refuse (a missing or newer `from`, a loop) is left to chainTo, to throw.
 */
function chainLength(
  chains: ReleaseChains,
  release: ChainRelease,
  lengths: Map<string, number>,
): number {
  const path: ChainRelease[] = [];
  const onPath = new Set<string>();
  let below = 0;
  for (let current = release; ; ) {
    const known = lengths.get(current.version);
    if (known !== undefined) {
      below = known;
      break;
    }
    if (onPath.has(current.version)) return chainTo(chains, release.version).length;
    path.push(current);
    onPath.add(current.version);
    if (current.from === null) break;
    const previous = chains.get(current.from);
    if (!previous || compareVersions(previous.version, current.version) >= 0) {
      return chainTo(chains, release.version).length;
    }
    current = previous;
  }
  for (const link of path.reverse()) lengths.set(link.version, ++below);
  return below;
}

function releaseOf(chains: ReleaseChains, row: HistoryRow): ChainRelease {
  const release = chains.get(row.version);
  const where = `pinline_schema_migrations row ${row.id} (${row.direction} ${row.file} of ${row.version}, ${row.appliedAt.toISOString()})`;
  if (!release) {
    throw new RefusedError(
      `${where} names release ${row.version}, which is not a release with a database section in releases/`,
      { hint: "restore the release folder the database was migrated with" },
    );
  }
  if (!listed(release, row.direction).has(row.file)) {
    throw new RefusedError(
      `${where}: releases/${release.folder}/${row.file} no longer exists (release.yaml's database.${row.direction === "migrate" ? "migrations" : "rollback"} does not list it)`,
      { hint: "an applied file must stay in its release: restore it" },
    );
  }
  return release;
}

const listSets = new WeakMap<ChainRelease, Record<Direction, ReadonlySet<string>>>();

/**
 * A release's migration or rollback list as a set, built once per release: the history has a
 * row per file, and looking each up in the list would make a long history quadratic.
 */
function listed(release: ChainRelease, direction: Direction): ReadonlySet<string> {
  let lists = listSets.get(release);
  if (!lists) {
    lists = { migrate: new Set(release.migrations), rollback: new Set(release.rollback) };
    listSets.set(release, lists);
  }
  return lists[direction];
}

function describeRow(release: ChainRelease, row: HistoryRow): string {
  return `releases/${release.folder}/${row.file}`;
}

function inconsistent(problem: string): RefusedError {
  return new RefusedError(`pinline_schema_migrations is inconsistent: ${problem}`, {
    hint: "compare the history with the database by hand before migrating",
  });
}

/** "2.4.0", "2.4.0 (2.4.1 partly applied: 1 of 2 migrations)", "none". */
export function describeState(state: DatabaseState): string {
  const version = state.version ?? "none";
  const partial = state.partial;
  if (!partial) return version;
  const total = partial.done.length + partial.remaining.length;
  const what =
    partial.direction === "migrate"
      ? `partly applied: ${partial.done.length} of ${total} migrations`
      : `partly rolled back: ${partial.done.length} of ${total} rollback scripts`;
  return `${version} (${partial.release.version} ${what})`;
}
