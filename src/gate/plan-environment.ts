/**
 * `pinline plan <env> [--to V]`: what the gate would say about moving an environment to a
 * version now — before anyone opens a PR. Offline it reads the local checkout only (approvals
 * and compliance checks then wait for GitHub); with a forge it also reads deployments, check
 * runs and, when one is open, the promotion PR's reviews.
 */
import { UsageError } from "../core/errors.js";
import { DEFAULT_CHANNEL } from "../core/gates/channel.js";
import {
  describeUpgradePath,
  findUpgradePath,
  judgeUpgradePath,
  versionsToInstall,
} from "../core/gates/upgrade-path.js";
import { heldVersions } from "../core/revert-hold.js";
import { selectUpdate } from "../core/select-update.js";
import { tryParseVersion } from "../core/version.js";
import type { Forge } from "../github/forge.js";
import type { GateReport, PinEvaluation } from "../notify/gate-summary.js";
import { promotionBranch } from "../promote/promotion-branch.js";
import { buildCatalog, policiesOf, releaseManifests, requirePin } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { GateFacts } from "./collect-gate-input.js";
import { judgeChange, reportFor } from "./evaluate-pull-request.js";

export interface PlanResult {
  environment: string;
  from: string;
  /** Undefined when nothing newer can be proposed (`upToDate` says why). */
  to: string | undefined;
  /** Versions to install in order (ending with `to`); [] when it stays; undefined when there is no path. */
  path: string[] | undefined;
  /** Why there is no upgrade path (a downgrade, a release that does not exist, an unreachable one). */
  pathProblem?: string | undefined;
  /**
   * The "upgrade path:" line: written from the same decision as the gate's "upgrade path" row
   * (core/gates/upgrade-path.ts), so the two agree.
   */
  pathSummary?: string | undefined;
  /**
   * Without --to: the newest release the environment may receive, when `to` is only the first
   * step towards it, and the whole way there.
   */
  newest?: { version: string; path: string[] } | undefined;
  /** Without --to, when there is nothing to plan: why. */
  upToDate?: string | undefined;
  evaluation: PinEvaluation | undefined;
  report: GateReport | undefined;
  /** The promotion PR whose reviews were read, when there is one. */
  pullRequest?: number | undefined;
  online: boolean;
}

/**
 * Without --to: what the update-check bot would propose (the newest eligible release, or the
 * first step towards it), or why nothing is.
 */
function proposal(
  environment: string,
  current: string,
  choice: ReturnType<typeof selectUpdate>,
  held: readonly string[],
): { to?: string; newest?: PlanResult["newest"]; upToDate?: string } {
  const heldNote =
    held.length > 0 ? ` (held after a revert here, never proposed again: ${held.join(", ")})` : "";
  if (!choice) {
    return { upToDate: `${environment} runs ${current}: nothing newer is eligible${heldNote}` };
  }
  if ("unreachable" in choice) {
    return {
      upToDate: `${environment} runs ${current}: no newer release is reachable: ${choice.unreachable}${heldNote}`,
    };
  }
  return {
    to: choice.next,
    ...(choice.path.length > 1
      ? { newest: { version: choice.newest, path: [current, ...choice.path] } }
      : {}),
  };
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
  const proposed =
    input.to === undefined
      ? proposal(
          input.environment,
          before.version,
          selectUpdate({ current: before.version, channel, policies, releases, held }),
          held,
        )
      : { to: input.to };
  const to = proposed.to;
  const online = input.forge !== undefined;
  if (to === undefined) {
    return {
      environment: input.environment,
      from: before.version,
      to,
      path: [],
      upToDate: proposed.upToDate,
      evaluation: undefined,
      report: undefined,
      online,
    };
  }
  if (!tryParseVersion(to)) {
    throw new UsageError(`"${to}" is not a version`, { hint: 'pass --to such as "2.4.1"' });
  }
  const pull = input.forge
    ? (await input.forge.listOpenPullRequests({ head: promotionBranch(input.environment) }))[0]
    : undefined;
  const change = {
    environment: input.environment,
    file,
    before,
    after: { ...before, version: to },
  };
  const gateInput = await facts.collect(change, pull, input.retry ? [to] : []);
  const evaluation = judgeChange(change, gateInput);
  // The header's path and the gate's "upgrade path" row, from one decision.
  const upgrade = findUpgradePath(gateInput);
  const path = versionsToInstall(upgrade, to);
  const towards = proposed.newest
    ? `, the first step towards ${proposed.newest.version} (${proposed.newest.path.join(" → ")})`
    : "";
  return {
    environment: input.environment,
    from: before.version,
    to,
    path,
    pathProblem: path === undefined ? judgeUpgradePath(gateInput, upgrade).reason : undefined,
    pathSummary: `${describeUpgradePath(gateInput, upgrade)}${towards}`,
    newest: proposed.newest,
    evaluation,
    report: reportFor(tree, [evaluation], []),
    pullRequest: pull?.number,
    online,
  };
}
