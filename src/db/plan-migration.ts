/**
 * The migration plan (pure): from where the database stands (derived from its history) to a
 * target release, the ordered files to run, or a refusal that says why not.
 *
 * - Up: walk the target's chain from the database's version, each release's migrations in list
 *   order (each release's `from` is the release before it, by construction of the chain).
 * - Down (an older release, or EMPTY_DATABASE): the rollback scripts of every newer release on
 *   the database's chain, newest release first, each release's list in order.
 * - Same version: nothing to do.
 * - Across lines, when one of them is a maintenance line (see crossLines): the releases of the
 *   database's line beyond the newest release both chains share are rolled back, newest first,
 *   then the target line's releases beyond it are applied.
 * - A partly applied release is resumed (its remaining migrations) when the target's chain goes
 *   through it, and rolled back (all its rollback scripts, which must tolerate a partial
 *   application, as `DROP ... IF EXISTS` does) when the target is its `from` or older. A partly
 *   rolled back release can only finish its rollback.
 */
import { RefusedError } from "../core/errors.js";
import { parseVersion } from "../core/version.js";
import type { DatabaseState, Direction, PartialRelease } from "./derive-schema-version.js";
import {
  type ChainRelease,
  chainTo,
  EMPTY_DATABASE,
  type ReleaseChains,
} from "./read-release-chain.js";

export interface PlannedStep {
  /** The release the file belongs to. */
  release: string;
  folder: string;
  /** Relative to the release folder: "migrations/2.4.0-2.4.1.sql". */
  file: string;
  direction: Direction;
  /** "skipped": already applied by an earlier run that stopped half-way. */
  status: "planned" | "skipped";
}

export interface MigrationPlan {
  /** The database's version before the run; null for an empty database. */
  from: string | null;
  /** The target; null for an empty database. */
  to: string | null;
  steps: PlannedStep[];
  /** Moving across lines: the release both chains share, which the plan goes through. */
  via?: LineCrossing;
}

/** How a plan moves from one line of releases to another (see crossLines). */
export interface LineCrossing {
  /** The newest release both chains share. */
  ancestor: string;
  /** The database's releases beyond it, rolled back (newest first in the plan). */
  undone: string[];
  /** The target's releases beyond it, applied. */
  applied: string[];
  /** The maintenance line that forks at the ancestor: "2.4" (undone or applied). */
  maintenanceLine: string;
}

/** Plans the run from `state` to `target` (a canonical version, or null for "none"). */
export function planMigration(
  chains: ReleaseChains,
  state: DatabaseState,
  target: string | null,
): MigrationPlan {
  const current = state.version;
  const partial = state.partial;
  const targetChain = target === null ? [] : chainTo(chains, target);
  const currentIndex = current === null ? -1 : targetChain.findIndex((r) => r.version === current);
  const goingUp = target !== null && target !== current && (current === null || currentIndex >= 0);
  const steps: PlannedStep[] = [];

  const resumes =
    partial !== undefined && targetChain.some((r) => r.version === partial.release.version);
  if (partial && !resumes) steps.push(...undoPartial(partial, current, target, goingUp));
  if (partial && resumes && partial.direction === "rollback") {
    throw new RefusedError(
      `release ${partial.release.version} is partly rolled back (${countOf(partial)} rollback scripts ran): finish the rollback before migrating to ${target}`,
      { hint: `migrate to ${current ?? EMPTY_DATABASE} first, then to ${target}` },
    );
  }

  if (target === current) return { from: current, to: target, steps };

  if (goingUp) {
    for (const release of targetChain.slice(currentIndex + 1)) {
      if (resumes && release.version === partial?.release.version) {
        steps.push(...stepsOf(release, "migrate", partial.done, "skipped"));
        steps.push(...stepsOf(release, "migrate", partial.remaining, "planned"));
      } else {
        steps.push(...stepsOf(release, "migrate", release.migrations, "planned"));
      }
    }
    return { from: current, to: target, steps };
  }

  const currentChain = current === null ? [] : chainTo(chains, current);
  const targetIndex = target === null ? -1 : currentChain.findIndex((r) => r.version === target);
  if (target === null || targetIndex >= 0) {
    for (const release of currentChain.slice(targetIndex + 1).reverse()) {
      steps.push(...rollbackOf(release, target));
    }
    return { from: current, to: target, steps };
  }

  const crossing = partial ? undefined : crossLines(currentChain, targetChain);
  if (crossing) {
    const { ancestorIndex, via } = crossing;
    for (const release of currentChain.slice(ancestorIndex + 1).reverse()) {
      steps.push(...rollbackOf(release, via.ancestor));
    }
    for (const release of targetChain.slice(ancestorIndex + 1)) {
      steps.push(...stepsOf(release, "migrate", release.migrations, "planned"));
    }
    return { from: current, to: target, steps, via };
  }
  throw invalidVersion(targetChain, current ?? EMPTY_DATABASE);
}

/**
 * The chain rule for maintenance releases. A maintenance release patches an older line after the
 * next one exists — 1.1.2 (from 1.1.1) published when 1.2.0 (from 1.1.1) is out — so the chains
 * fork at the release it patches. A database may move between the two lines through the newest
 * release both chains share (the ancestor): what the database's line has beyond it is rolled
 * back with its own rollback scripts, then the target line's migrations run. The database then
 * holds exactly the schema of the target's chain, nothing of the other line left over.
 *
 * Only where one side of the fork is a maintenance line: every release beyond the ancestor on
 * that side has the ancestor's major.minor (1.1.2, 1.1.3 after 1.1.1). Two lines that both
 * moved on (a 2.5 beta line and a 3.0 line from 2.4.1) are refused as before ("Invalid version
 * for migration"): rolling back a line of new features on the way to another is a decision for
 * a person (migrate to the shared release first, then on).
 */
function crossLines(
  currentChain: readonly ChainRelease[],
  targetChain: readonly ChainRelease[],
): { ancestorIndex: number; via: LineCrossing } | undefined {
  let ancestorIndex = -1;
  while (
    ancestorIndex + 1 < Math.min(currentChain.length, targetChain.length) &&
    currentChain[ancestorIndex + 1]?.version === targetChain[ancestorIndex + 1]?.version
  ) {
    ancestorIndex++;
  }
  const ancestor = currentChain[ancestorIndex];
  if (!ancestor) return undefined;
  const undone = currentChain.slice(ancestorIndex + 1);
  const applied = targetChain.slice(ancestorIndex + 1);
  const line = minorLine(ancestor.version);
  const maintains = (releases: readonly ChainRelease[]) =>
    releases.length > 0 && releases.every((r) => minorLine(r.version) === line);
  if (!maintains(undone) && !maintains(applied)) return undefined;
  return {
    ancestorIndex,
    via: {
      ancestor: ancestor.version,
      undone: undone.map((r) => r.version),
      applied: applied.map((r) => r.version),
      maintenanceLine: line,
    },
  };
}

/** "1.1" of "1.1.2". */
function minorLine(version: string): string {
  const { major, minor } = parseVersion(version).semver;
  return `${major}.${minor}`;
}

/** A partial release the target's chain does not go through: undo it first. */
function undoPartial(
  partial: PartialRelease,
  current: string | null,
  target: string | null,
  goingUp: boolean,
): PlannedStep[] {
  const release = partial.release;
  if (partial.direction === "rollback") {
    return [
      ...stepsOf(release, "rollback", partial.done, "skipped"),
      ...stepsOf(release, "rollback", partial.remaining, "planned"),
    ];
  }
  if (goingUp) {
    throw new RefusedError(
      `release ${release.version} is partly applied (${countOf(partial)} migrations), and the chain of ${target} does not go through it`,
      {
        hint: `migrate to ${release.version} to finish it, or to ${current ?? EMPTY_DATABASE} to roll it back, first`,
      },
    );
  }
  return rollbackOf(release, target);
}

/** "1 of 2". */
function countOf(partial: PartialRelease): string {
  return `${partial.done.length} of ${partial.done.length + partial.remaining.length}`;
}

function rollbackOf(release: ChainRelease, target: string | null): PlannedStep[] {
  if (release.migrations.length === 0) return [];
  if (release.rollback.length === 0) {
    throw new RefusedError(
      `release ${release.version} has no rollback scripts: its migrations cannot be undone, so the database cannot go back to ${target ?? EMPTY_DATABASE}`,
      {
        hint: `list the scripts that undo them under database.rollback in releases/${release.folder}/release.yaml`,
      },
    );
  }
  return stepsOf(release, "rollback", release.rollback, "planned");
}

function stepsOf(
  release: ChainRelease,
  direction: Direction,
  files: readonly string[],
  status: PlannedStep["status"],
): PlannedStep[] {
  return files.map((file) => ({
    release: release.version,
    folder: release.folder,
    file,
    direction,
    status,
  }));
}

/** The specification's "Invalid version for migration. Expected 2.4.0, got 2.3.0". */
function invalidVersion(targetChain: readonly ChainRelease[], current: string): RefusedError {
  const target = targetChain.at(-1) as ChainRelease;
  const expected = target.from ?? EMPTY_DATABASE;
  const earlier = [EMPTY_DATABASE, ...targetChain.slice(0, -2).map((r) => r.version)];
  return new RefusedError(
    `Invalid version for migration. Expected ${expected}, got ${current}: release ${target.version} migrates from ${expected}, and ${current} is not on its chain (${[EMPTY_DATABASE, ...targetChain.map((r) => r.version)].join(" → ")})`,
    {
      hint:
        earlier.length > 1
          ? `the database must be at ${expected} or an earlier release of that chain (${earlier.join(", ")}); roll back to a release both chains share first`
          : "roll back to a release both chains share first",
    },
  );
}
