/**
 * actions/update-check (the specification's client updater, section 2.1, run on a schedule):
 * for each environment whose checkInterval has elapsed since it was last checked, the newest
 * release its channel and policies allow becomes — or stays — its ONE open promotion PR. A PR
 * whose version is superseded is closed for a new one; a PR that is no longer eligible is
 * closed with the reason. With autoInstall, auto-merge is enabled: GitHub merges the PR once
 * the required `pinline/gate` check passes, which it does only inside the maintenance window.
 */
import { parseDuration } from "../core/duration.js";
import { DEFAULT_CHANNEL } from "../core/gates/channel.js";
import { heldVersions } from "../core/revert-hold.js";
import { selectUpdate } from "../core/select-update.js";
import { compareVersions } from "../core/version.js";
import type { Forge, PullRequestInfo } from "../github/forge.js";
import { readMarker } from "../notify/promotion-body.js";
import { buildCatalog, policiesOf, releaseManifests } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { readPinHistory } from "../repo/read-pin-history.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { openPromotion } from "./open-promotion.js";
import { promotionBranch } from "./promotion-branch.js";

/** The specification's default check interval (section 2.1): 360 minutes. */
export const DEFAULT_CHECK_INTERVAL = "6h";

export interface UpdateCheckOutcome {
  environment: string;
  action: "not-due" | "up-to-date" | "opened" | "updated" | "unchanged" | "closed" | "superseded";
  current: string;
  version?: string | undefined;
  pullRequest?: number | undefined;
  autoMerge?: boolean | undefined;
  reason: string;
}

async function closeWithReason(forge: Forge, pull: PullRequestInfo, reason: string): Promise<void> {
  await forge.createComment(pull.number, `pinline update-check closed this PR: ${reason}`);
  await forge.updatePullRequest(pull.number, { state: "closed" });
}

export async function runUpdateCheck(input: {
  root: string;
  forge: Forge;
  now: Date;
  base?: string | undefined;
  /** Check only these environments (default: all). */
  environments?: readonly string[] | undefined;
}): Promise<UpdateCheckOutcome[]> {
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "update-check");
  const catalog = buildCatalog(tree);
  const releases = releaseManifests(catalog);
  // Versions reverted in an environment are never proposed there again (core/revert-hold.ts).
  const history = await readPinHistory(
    input.root,
    tree.environments.map((environment) => environment.name),
  );
  // One listing for every environment: each promotion PR lives on its environment's branch.
  const open = await input.forge.listOpenPullRequests(input.base ? { base: input.base } : {});
  const outcomes: UpdateCheckOutcome[] = [];
  for (const document of tree.environments) {
    const pin = document.data;
    if (!pin) continue;
    if (input.environments && !input.environments.includes(document.name)) continue;
    const environment = document.name;
    const settings = pin.update ?? {};
    const existing = open.find((pull) => pull.headRef === promotionBranch(environment));
    const marker = existing ? readMarker(existing.body) : undefined;
    const interval = parseDuration(settings.checkInterval ?? DEFAULT_CHECK_INTERVAL);
    const base = { environment, current: pin.version };
    if (marker?.checkedAt && input.now.getTime() - marker.checkedAt.getTime() < interval) {
      outcomes.push({
        ...base,
        action: "not-due",
        version: marker.version,
        pullRequest: existing?.number,
        reason: `checked ${marker.checkedAt.toISOString()}; next after ${settings.checkInterval ?? DEFAULT_CHECK_INTERVAL}`,
      });
      continue;
    }
    const policies = policiesOf(catalog, environment);
    const held = heldVersions(history.get(environment) ?? []).map((record) => record.version);
    const choice = selectUpdate({
      current: pin.version,
      channel: settings.channel ?? DEFAULT_CHANNEL,
      policies,
      releases,
      held,
    });
    if (!choice || "unreachable" in choice) {
      const heldNote =
        held.length > 0
          ? ` (held after a revert here, never proposed again: ${held.join(", ")})`
          : "";
      const reason = choice
        ? `no newer release is reachable: ${choice.unreachable}${heldNote}`
        : `${environment} runs ${pin.version}, the newest release its channel and policy allow${heldNote}`;
      if (existing) {
        await closeWithReason(input.forge, existing, reason);
        outcomes.push({ ...base, action: "closed", pullRequest: existing.number, reason });
      } else {
        outcomes.push({ ...base, action: "up-to-date", reason });
      }
      continue;
    }
    let superseded: number | undefined;
    if (existing && marker && compareVersions(marker.version, choice.next) !== 0) {
      await closeWithReason(
        input.forge,
        existing,
        `superseded: ${choice.next} is now the version to promote ${environment} to`,
      );
      superseded = existing.number;
    }
    const result = await openPromotion({
      root: input.root,
      forge: input.forge,
      environment,
      version: choice.next,
      base: input.base,
      openedBy: "pinline update-check",
      checkedAt: input.now,
      catalog,
    });
    let autoMerge = false;
    if (settings.autoInstall) {
      await input.forge.enableAutoMerge(result.pullRequest, "SQUASH");
      autoMerge = true;
    }
    const steps =
      choice.path.length > 1
        ? `; newest is ${choice.newest}, reached through ${choice.path.join(" → ")}`
        : "";
    outcomes.push({
      ...base,
      action:
        superseded !== undefined
          ? "superseded"
          : result.action === "created"
            ? "opened"
            : result.action,
      version: choice.next,
      pullRequest: result.pullRequest.number,
      autoMerge,
      reason: `${pin.version} → ${choice.next}${steps}${superseded !== undefined ? ` (closed #${superseded})` : ""}`,
    });
  }
  return outcomes;
}
