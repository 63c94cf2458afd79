import { policyAllowsVersion } from "../core/channels.js";
import type { Policy } from "../core/schema-types.js";
import { tryParseVersion } from "../core/version.js";
import type { Catalog } from "./catalog.js";
import { error, type Finding } from "./findings.js";
import { SIGNATURE_FILE } from "./layout.js";
import type { NamedDocument, ReleaseFolder } from "./load-tree.js";

/** A stage is a production stage when its name says so: production, production-canary, ... */
const isProductionStage = (stage: string): boolean => /^prod(uction)?(-|$)/.test(stage);

/**
 * Every release that a policy lets into production must carry its signature file. Presence
 * only: `pinline verify` judges whether the signatures are valid and enough.
 */
export function checkSignatures(
  releases: readonly ReleaseFolder[],
  policies: readonly NamedDocument<Policy>[],
  catalog: Catalog,
): Finding[] {
  // The policies that govern at least one environment in a production stage.
  const production = new Set<NamedDocument<Policy>>();
  for (const environment of catalog.environments.values()) {
    if (!environment.data || !isProductionStage(environment.data.stage)) continue;
    for (const policy of catalog.policiesFor(environment.name)) production.add(policy);
  }
  if (production.size === 0) return [];
  const findings: Finding[] = [];
  for (const release of releases) {
    if (!release.yaml || !release.data || release.contents.includes(SIGNATURE_FILE)) continue;
    const version = tryParseVersion(release.data.version);
    if (!version) continue;
    const policy = policies.find(
      (p) => production.has(p) && policyAllowsVersion(p.data as Policy, version),
    );
    if (!policy) continue;
    findings.push(
      error(
        "signature",
        release.yaml.at(["version"]),
        `${release.data.version} is not signed (releases/${release.folder}/${SIGNATURE_FILE} is missing), but ${policy.file} lets ${version.channel} releases into production`,
        `sign it: pinline sign releases/${release.folder} --key <private key file>`,
      ),
    );
  }
  return findings;
}
