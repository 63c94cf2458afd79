/**
 * `pinline promote --local`: the same pin change as a commit in the local checkout, for
 * repositories without GitHub (and the demo).
 */

import { RETRY_TRAILER } from "../core/revert-hold.js";
import { renderPromotionTitle } from "../notify/promotion-body.js";
import { buildCatalog } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { commitPinChange } from "./commit-pin-change.js";
import { preparePromotion } from "./open-promotion.js";

export async function commitPromotion(input: {
  root: string;
  environment: string;
  version: string;
  /** Tries the version again after it was reverted there: the commit carries the trailer. */
  retry?: boolean | undefined;
}): Promise<{ commit: string; from: string; to: string; file: string }> {
  const tree = await loadTree(input.root);
  requireSoundGovernance(tree, "promote");
  const plan = preparePromotion(buildCatalog(tree), input.environment, input.version);
  const title = renderPromotionTitle(input.environment, plan.to);
  const { commit } = await commitPinChange({
    root: input.root,
    file: plan.file,
    version: plan.to,
    message: `${title}\n\n${plan.pin.version} → ${plan.to}${input.retry ? `\n\n${RETRY_TRAILER}: ${plan.to}` : ""}`,
  });
  return { commit, from: plan.pin.version, to: plan.to, file: plan.file };
}
