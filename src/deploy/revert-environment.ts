/**
 * `pinline revert <env>` (the specification's manual rollback, section 5.2): the revert PR —
 * or, with --local, the commit — that restores the version the environment ran before. The
 * deploy that follows the merge rolls the migrations back and applies the old version.
 */
import { RefusedError } from "../core/errors.js";
import type { Forge } from "../github/forge.js";
import { buildCatalog, releaseOf, requirePin } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { previousPinVersion } from "../repo/read-pin-history.js";
import { commitRevert, openRevert } from "./open-revert.js";

export async function revertEnvironment(input: {
  root: string;
  environment: string;
  to?: string | undefined;
  reason: string;
  forge?: Forge | undefined;
  base?: string | undefined;
}): Promise<{ summary: string; pullRequest?: number; commit?: string }> {
  const catalog = buildCatalog(await loadTree(input.root));
  const { file, pin } = requirePin(catalog, input.environment);
  const current = pin.version;
  const to = input.to ?? (await previousPinVersion(input.root, input.environment, current));
  if (!to) {
    throw new RefusedError(
      `${input.environment} has run no other version: there is nothing to revert to`,
    );
  }
  if (!releaseOf(catalog, to)) {
    throw new RefusedError(`releases/${to} does not exist`);
  }
  const request = {
    environment: input.environment,
    file,
    from: current,
    to,
    reason: input.reason,
  };
  if (!input.forge) {
    const { commit } = await commitRevert({ root: input.root, request });
    return {
      summary: `${file}: ${current} → ${to} (commit ${commit.slice(0, 7)})`,
      commit,
    };
  }
  const result = await openRevert({ forge: input.forge, request, base: input.base, merge: false });
  return {
    summary: `${result.action} revert PR #${result.pullRequest.number}: ${input.environment} ${current} → ${to}\n${result.pullRequest.htmlUrl}`,
    pullRequest: result.pullRequest.number,
  };
}
