/**
 * `pinline plan <env> [--to V]`: what the gate would say about moving an environment to a
 * version now — before anyone opens a PR. Offline it reads the local checkout only (approvals
 * and compliance checks then wait for GitHub); with a forge it also reads deployments, check
 * runs and, when one is open, the promotion PR's reviews.
 */
import { UsageError } from "../core/errors.js";
import { DEFAULT_CHANNEL } from "../core/gates/channel.js";
import { planUpgrade, type UpgradeCandidate } from "../core/plan-upgrade.js";
import { heldVersions } from "../core/revert-hold.js";
import { eligibleUpdates, selectUpdate } from "../core/select-update.js";
import { compareVersions, tryParseVersion } from "../core/version.js";
import type { Forge } from "../github/forge.js";
import type { GateReport, PinEvaluation } from "../notify/gate-summary.js";
import { promotionBranch } from "../promote/promotion-branch.js";
import { buildCatalog, policiesOf, releaseManifests, requirePin } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { GateFacts } from "./collect-gate-input.js";
import { evaluateChange, reportFor } from "./evaluate-pull-request.js";

export interface PlanResult {
  environment: string;
  from: string;
  /** Undefined when the environment already runs the newest eligible release. */
  to: string | undefined;
  /** Versions to install in order (ending with `to`); undefined when there is no path. */
  path: string[] | undefined;
  /** Why there is no upgrade path (a downgrade, an ineligible or unreachable version). */
  pathProblem?: string | undefined;
  evaluation: PinEvaluation | undefined;
  report: GateReport | undefined;
  /** The promotion PR whose reviews were read, when there is one. */
  pullRequest?: number | undefined;
  online: boolean;
}

/** The versions to install from `from` to `to`; [] when already there; a problem when none. */
function findPath(
  from: string,
  to: string,
  releases: UpgradeCandidate[],
): { path: string[] | undefined; pathProblem?: string } {
  if (compareVersions(to, from) === 0) return { path: [] };
  try {
    return { path: planUpgrade({ from, to, releases }) };
  } catch (error) {
    return { path: undefined, pathProblem: error instanceof Error ? error.message : String(error) };
  }
}

export async function planEnvironment(input: {
  root: string;
  environment: string;
  to?: string | undefined;
  forge?: Forge | undefined;
  now?: Date;
  /** Judge as a promotion that tries `to` again after it was reverted here (`--retry`). */
  retry?: boolean | undefined;
}): Promise<PlanResult> {
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "plan");
  const catalog = buildCatalog(tree);
  const { file, pin: before } = requirePin(catalog, input.environment);
  const policies = policiesOf(catalog, input.environment);
  const releases = releaseManifests(catalog);
  const channel = before.update?.channel ?? DEFAULT_CHANNEL;
  const facts = new GateFacts(tree, catalog, input.now ?? new Date(), input.forge);
  const held = heldVersions((await facts.pinHistory()).get(input.environment) ?? []).map(
    (record) => record.version,
  );
  let to = input.to;
  if (to === undefined) {
    const choice = selectUpdate({ current: before.version, channel, policies, releases, held });
    if (choice && "next" in choice) to = choice.newest;
  }
  const online = input.forge !== undefined;
  if (to === undefined) {
    return {
      environment: input.environment,
      from: before.version,
      to,
      path: [],
      evaluation: undefined,
      report: undefined,
      online,
    };
  }
  if (!tryParseVersion(to)) {
    throw new UsageError(`"${to}" is not a version`, { hint: 'pass --to such as "2.4.1"' });
  }
  const { path, pathProblem } = findPath(
    before.version,
    to,
    eligibleUpdates({ channel, policies, releases }),
  );
  const pull = input.forge
    ? (await input.forge.listOpenPullRequests({ head: promotionBranch(input.environment) }))[0]
    : undefined;
  const evaluation = await evaluateChange(
    facts,
    { environment: input.environment, file, before, after: { ...before, version: to } },
    pull,
    input.retry ? [to] : [],
  );
  return {
    environment: input.environment,
    from: before.version,
    to,
    path,
    pathProblem,
    evaluation,
    report: reportFor(tree, [evaluation], []),
    pullRequest: pull?.number,
    online,
  };
}
