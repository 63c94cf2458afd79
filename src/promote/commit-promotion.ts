/**
 * `pinline promote --local`: the same pin change as a commit in the local checkout, for
 * repositories without GitHub — judged first by the gate's rules that the checkout can answer
 * (judge-locally.ts), since no gate will judge it afterwards.
 */

import type { GateVerdict } from "../core/gates/gate-input.js";
import { RETRY_TRAILER } from "../core/revert-hold.js";
import { renderPromotionTitle } from "../notify/promotion-body.js";
import { buildCatalog } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { commitPinChange } from "./commit-pin-change.js";
import {
  collectLocalInput,
  judgeLocally,
  localFacts,
  refuseUnlessPassed,
} from "./judge-locally.js";
import { type PromotionPlan, preparePromotion } from "./open-promotion.js";

export interface CommittedPromotion {
  commit: string;
  from: string;
  to: string;
  file: string;
}

export interface LocalPromotion extends CommittedPromotion {
  /** The rules judged before the commit (all passed). */
  judged: GateVerdict[];
  /** The rules a local promotion cannot judge (local-rules.ts). */
  notJudged: string[];
}

interface PromotionRequest {
  root: string;
  environment: string;
  version: string;
  /** Tries the version again after it was reverted there: the commit carries the trailer. */
  retry?: boolean | undefined;
}

async function commitPlan(
  root: string,
  plan: PromotionPlan,
  retry: boolean | undefined,
): Promise<CommittedPromotion> {
  const title = renderPromotionTitle(plan.environment, plan.to);
  const { commit } = await commitPinChange({
    root,
    file: plan.file,
    version: plan.to,
    message: `${title}\n\n${plan.pin.version} → ${plan.to}${retry ? `\n\n${RETRY_TRAILER}: ${plan.to}` : ""}`,
  });
  return { commit, from: plan.pin.version, to: plan.to, file: plan.file };
}

/**
 * `promote --local`: refuses (RefusedError, exit 1) unless every rule judged locally passes,
 * then commits the pin change.
 */
export async function promoteLocally(
  input: PromotionRequest & { now?: Date | undefined },
): Promise<LocalPromotion> {
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "promote");
  const catalog = buildCatalog(tree);
  const plan = preparePromotion(catalog, input.environment, input.version);
  const gateInput = await collectLocalInput(
    localFacts(tree, catalog, input.now),
    {
      environment: plan.environment,
      file: plan.file,
      before: plan.pin,
      after: { ...plan.pin, version: plan.to },
    },
    input.retry,
  );
  const judgement = judgeLocally(gateInput);
  refuseUnlessPassed(judgement, "promote --local");
  const committed = await commitPlan(input.root, plan, input.retry);
  return { ...committed, judged: judgement.judged, notJudged: judgement.notJudged };
}

/**
 * The pin change as a commit, without asking the policy: for the demo and the tests, which
 * stage promotions a policy refuses on purpose (the demo's bad release 2.4.2 is one that
 * policies/production.yaml blocks). `pinline promote --local` goes through promoteLocally.
 */
export async function commitPromotion(input: PromotionRequest): Promise<CommittedPromotion> {
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "promote");
  const plan = preparePromotion(buildCatalog(tree), input.environment, input.version);
  return commitPlan(input.root, plan, input.retry);
}
