import picomatch from "picomatch";
import { updateChannelReceives } from "../core/channels.js";
import type { Policy } from "../core/schema-types.js";
import { tryParseVersion } from "../core/version.js";
import type { Catalog } from "./catalog.js";
import { error, type Finding } from "./findings.js";
import { RELEASE_FILE } from "./layout.js";
import type { NamedDocument, ReleaseFolder } from "./load-tree.js";

const SIGNATURE_FILE = `${RELEASE_FILE}.asc`;

/** A stage is a production stage when its name says so: production, production-canary, ... */
export const isProductionStage = (stage: string): boolean => /^prod(uction)?(-|$)/.test(stage);

/**
 * Every release that a policy lets into production must carry its signature file. Presence
 * only: `pinline verify` judges whether the signatures are valid and enough.
 */
export function checkSignatures(
  releases: readonly ReleaseFolder[],
  policies: readonly NamedDocument<Policy>[],
  catalog: Catalog,
): Finding[] {
  const production = policies.filter((p) => p.data && governsProduction(p.data, catalog));
  if (production.length === 0) return [];
  const findings: Finding[] = [];
  for (const release of releases) {
    if (!release.yaml || !release.data || release.contents.includes(SIGNATURE_FILE)) continue;
    const version = tryParseVersion(release.data.version);
    if (!version) continue;
    const policy = production.find((p) => allows(p.data as Policy, version));
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

function governsProduction(policy: Policy, catalog: Catalog): boolean {
  const matches = picomatch(policy.appliesTo, { dot: true });
  return [...catalog.environments.values()].some(
    (e) => matches(e.name) && e.data !== undefined && isProductionStage(e.data.stage),
  );
}

function allows(policy: Policy, version: NonNullable<ReturnType<typeof tryParseVersion>>): boolean {
  const channels = policy.allowedChannels;
  if (!channels || channels.length === 0) return true;
  return channels.some((channel) => {
    try {
      return updateChannelReceives(channel, version, policy.customChannels);
    } catch {
      return false; // a malformed channel is reported on the policy itself
    }
  });
}
