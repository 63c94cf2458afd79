/**
 * `pinline revert <env>` (the specification's manual rollback, section 5.2): the revert PR —
 * or, with --local, the commit — that restores a version the environment ran before. Only a
 * revert in the upgrade-path rule's sense is accepted (DESIGN §1: a version the environment ran
 * among its last `keepVersions` versions, the strictest applying policy's); --local is judged
 * by the rest of the gate's rules that the checkout can answer, as `promote --local` is. The
 * deploy that follows the merge rolls the migrations back and applies the old version.
 */
import { RefusedError, UsageError } from "../core/errors.js";
import { describeChange } from "../core/gates/describe-change.js";
import type { GateInput, GateVerdict, PinPeriod } from "../core/gates/gate-input.js";
import { sameVersion, tryParseVersion } from "../core/version.js";
import type { Forge } from "../github/forge.js";
import {
  collectLocalInput,
  describeJudgement,
  judgeLocally,
  localFacts,
  refuseUnlessPassed,
} from "../promote/judge-locally.js";
import { buildCatalog, type Catalog, releaseOf, requirePin } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { readPinHistory } from "../repo/read-pin-history.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { commitRevert, openRevert } from "./open-revert.js";

export interface RevertResult {
  summary: string;
  from: string;
  to: string;
  pullRequest?: number;
  commit?: string;
  /** --local: the rules judged before the commit (all passed), and those left out. */
  judged?: GateVerdict[];
  notJudged?: string[];
}

/** The distinct versions of earlier periods than the current pin, newest first. */
function ranBefore(periods: readonly PinPeriod[], current: string): string[] {
  const versions: string[] = [];
  for (const period of [...periods].reverse()) {
    if (sameVersion(period.version, current)) continue;
    if (!versions.some((seen) => sameVersion(seen, period.version))) versions.push(period.version);
  }
  return versions;
}

/** The versions a revert from `input.from` may restore: those the upgrade-path rule calls one. */
export function revertTargets(input: GateInput): string[] {
  const periods = input.history[input.environment] ?? [];
  return ranBefore(periods, input.from).filter(
    (version) => describeChange({ ...input, to: version }).kind === "revert",
  );
}

/** Where the keepVersions in force comes from: "rollback.keepVersions: 3 in policies/x.yaml". */
function keepVersionsSource(input: GateInput, keepVersions: number): string {
  const files = input.policies
    .filter((named) => named.policy.rollback?.keepVersions === keepVersions)
    .map((named) => named.file);
  return files.length > 0
    ? `rollback.keepVersions: ${keepVersions} in ${files.join(", ")}`
    : `keepVersions ${keepVersions}, the default`;
}

/** Refuses a revert target the upgrade-path rule would not call a revert, naming those it would. */
function requireRevertTarget(input: GateInput): void {
  const { environment, from, to } = input;
  const change = describeChange(input);
  if (change.kind === "revert") return;
  const allowed = revertTargets(input);
  const may =
    allowed.length > 0
      ? `it may go back to ${allowed.join(", ")} (newest first)`
      : "it has no earlier version to go back to";
  if (change.kind === "unchanged") {
    throw new RefusedError(`${environment} already runs ${from}: there is nothing to revert`, {
      hint: may,
    });
  }
  if (change.kind === "upgrade") {
    throw new RefusedError(
      `${to} is newer than ${from}, which ${environment} runs: a revert only goes back, ${may}`,
      { hint: `going forward is a promotion: pinline promote ${environment} ${to}` },
    );
  }
  throw new RefusedError(
    `${environment} did not run ${to} among its last ${change.keepVersions} versions (${keepVersionsSource(input, change.keepVersions)}): ${may}`,
    {
      hint:
        allowed.length > 0
          ? `pass --to ${allowed[0]}, or promote a release newer than ${from} instead`
          : `promote a release newer than ${from} instead`,
    },
  );
}

export async function revertEnvironment(input: {
  root: string;
  environment: string;
  to?: string | undefined;
  reason: string;
  /** Opens the revert PR on GitHub; without it the revert is a local commit (--local). */
  connect?: (() => Promise<Forge>) | undefined;
  base?: string | undefined;
  now?: Date | undefined;
}): Promise<RevertResult> {
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "revert");
  const catalog = buildCatalog(tree);
  const { environment } = input;
  const { file, pin } = requirePin(catalog, environment);
  const current = pin.version;
  if (input.to !== undefined && !tryParseVersion(input.to)) {
    throw new UsageError(`"${input.to}" is not a version`, { hint: 'pass --to such as "2.4.0"' });
  }
  const facts = localFacts(tree, catalog, input.now);
  const periods = (await facts.pinHistory()).get(environment) ?? [];
  const candidate = input.to ?? ranBefore(periods, current)[0];
  if (!candidate) {
    throw new RefusedError(
      `${environment} has run no other version: there is nothing to revert to`,
    );
  }
  const collect = (version: string) =>
    collectLocalInput(facts, { environment, file, before: pin, after: { ...pin, version } });
  let gateInput = await collect(candidate);
  // Without --to: the newest version a revert may restore (after a revert, the version that
  // ran last is newer than the pin).
  const newest = revertTargets(gateInput)[0];
  if (input.to === undefined && describeChange(gateInput).kind !== "revert" && newest) {
    gateInput = await collect(newest);
  }
  requireRevertTarget(gateInput);
  const to = gateInput.to;
  if (!releaseOf(catalog, to)) {
    throw new RefusedError(`releases/${to} does not exist`, {
      hint: "a revert restores a release that is still in releases/",
    });
  }
  const request = { environment, file, from: current, to, reason: input.reason };
  if (!input.connect) {
    const judgement = judgeLocally(gateInput);
    refuseUnlessPassed(judgement, "revert --local");
    const { commit } = await commitRevert({ root: input.root, request });
    return {
      summary: `${file}: ${current} → ${to} (commit ${commit.slice(0, 7)})\n${describeJudgement(judgement)}`,
      from: current,
      to,
      commit,
      judged: judgement.judged,
      notJudged: judgement.notJudged,
    };
  }
  const forge = await input.connect();
  const result = await openRevert({ forge, request, base: input.base, merge: false });
  return {
    summary: `${result.action} revert PR #${result.pullRequest.number}: ${environment} ${current} → ${to}\n${result.pullRequest.htmlUrl}`,
    from: current,
    to,
    pullRequest: result.pullRequest.number,
  };
}

/**
 * `deploy --previous V` (and the deploy action's `previous`): the version a failed deploy rolls
 * back to must be a release the environment ran before its current pin — the pin's git history
 * says which — and that is still in releases/, or the rollback would apply what never ran there.
 */
export async function requireRanBefore(input: {
  root: string;
  environment: string;
  catalog: Catalog;
  /** The version being deployed (the pin). */
  current: string;
  /** The version asked for as the previous one. */
  version: string;
}): Promise<void> {
  const { environment, version } = input;
  if (!tryParseVersion(version)) {
    throw new UsageError(`--previous "${version}" is not a version`, {
      hint: 'such as "2.4.0"',
    });
  }
  const periods = (await readPinHistory(input.root, [environment])).get(environment) ?? [];
  const ran = ranBefore(periods, input.current);
  const listed =
    ran.length > 0
      ? `${environment} ran ${ran.join(", ")} before ${input.current} (newest first)`
      : `${environment} has run no version before ${input.current}`;
  if (sameVersion(version, input.current)) {
    throw new RefusedError(
      `--previous ${version} is the version being deployed, not one to roll back to: ${listed}`,
      { hint: "leave --previous out to roll back to the version before the pin" },
    );
  }
  if (!ran.some((seen) => sameVersion(seen, version))) {
    throw new RefusedError(
      `--previous ${version}: ${environment} never ran ${version}, so a failed deploy must not roll back to it; ${listed}`,
      {
        hint:
          ran.length > 0
            ? `pass --previous ${ran[0]}, or leave it out to roll back to the version before the pin`
            : "leave --previous out: with no earlier version, a failed deploy keeps the pin",
      },
    );
  }
  if (!releaseOf(input.catalog, version)) {
    throw new RefusedError(
      `--previous ${version}: releases/${version} does not exist (or does not validate), so a failed deploy could not apply it again`,
      { hint: "restore the release folder, or pass another version the environment ran" },
    );
  }
}
