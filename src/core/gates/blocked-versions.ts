/**
 * Blocked versions (specification section 8.1): the policy may block an exact version or a
 * semver range; a blocked version is never promoted, not even as a revert.
 */
import { entryBlocks } from "../blocked-versions.js";
import { tryParseVersion } from "../version.js";
import { fail, type GateRule, pass, type RuleInput, type RuleResult } from "./gate-rule.js";

export function evaluateBlockedVersions(input: RuleInput): RuleResult {
  const blocked = input.policy.policy.blockedVersions ?? [];
  const file = input.policy.file;
  if (blocked.length === 0) return pass(`${file} blocks no versions`);
  const hit = blocked.find((entry) => entryBlocks(entry, input.to));
  if (hit === undefined) return pass(`${input.to} is not blocked by ${file}`);
  const how = tryParseVersion(hit) ? "" : ` (matches "${hit}")`;
  return fail(`${input.to} is blocked by ${file}${how}`);
}

export const blockedVersions: GateRule = {
  name: "blocked versions",
  scope: "policy",
  evaluate: evaluateBlockedVersions,
};
