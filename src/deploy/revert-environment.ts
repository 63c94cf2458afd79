/**
 * `pinline revert <env>` (the specification's manual rollback, section 5.2): the revert PR —
 * or, with --local, the commit — that restores the version the environment ran before. The
 * deploy that follows the merge rolls the migrations back and applies the old version.
 */
import { RefusedError, UsageError } from "../core/errors.js";
import { compareVersions, tryParseVersion } from "../core/version.js";
import type { Forge } from "../github/forge.js";
import { buildCatalog } from "../repo/catalog.js";
import { loadTree } from "../repo/load-tree.js";
import { readPinHistory } from "../repo/read-pin-history.js";
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
  const document = catalog.environments.get(input.environment);
  if (!document?.data) {
    throw new UsageError(`no environment "${input.environment}"`, {
      hint: `environments: ${[...catalog.environments.keys()].join(", ")}`,
    });
  }
  const current = document.data.version;
  const periods =
    (await readPinHistory(input.root, [input.environment])).get(input.environment) ?? [];
  const earlier = periods
    .slice(0, -1)
    .reverse()
    .find((p) => compareVersions(p.version, current) !== 0);
  const to = input.to ?? earlier?.version;
  if (!to) {
    throw new RefusedError(
      `${input.environment} has run no other version: there is nothing to revert to`,
    );
  }
  if (!tryParseVersion(to) || !catalog.releases.has(tryParseVersion(to)?.canonical ?? "")) {
    throw new RefusedError(`releases/${to} does not exist`);
  }
  const request = {
    environment: input.environment,
    file: document.file,
    from: current,
    to,
    reason: input.reason,
  };
  if (!input.forge) {
    const { commit } = await commitRevert({ root: input.root, request });
    return {
      summary: `${document.file}: ${current} → ${to} (commit ${commit.slice(0, 7)})`,
      commit,
    };
  }
  const result = await openRevert({ forge: input.forge, request, base: input.base, merge: false });
  return {
    summary: `${result.action} revert PR #${result.pullRequest.number}: ${input.environment} ${current} → ${to}\n${result.pullRequest.htmlUrl}`,
    pullRequest: result.pullRequest.number,
  };
}
