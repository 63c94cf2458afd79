/**
 * `pinline promote --local`: the same pin change as a commit in the local checkout, for
 * repositories without GitHub (and the demo).
 */
import { renderPromotionTitle } from "../notify/promotion-body.js";
import { buildCatalog } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { commitPinChange } from "./commit-pin-change.js";
import { preparePromotion } from "./open-promotion.js";

export async function commitPromotion(input: {
  root: string;
  environment: string;
  version: string;
}): Promise<{ commit: string; from: string; to: string; file: string }> {
  const tree = await loadTree(input.root);
  const plan = preparePromotion(buildCatalog(tree), input.environment, input.version);
  const title = renderPromotionTitle(input.environment, plan.to);
  const { commit } = await commitPinChange({
    root: input.root,
    file: plan.file,
    version: plan.to,
    message: `${title}\n\n${plan.pin.version} → ${plan.to}`,
  });
  return { commit, from: plan.pin.version, to: plan.to, file: plan.file };
}
