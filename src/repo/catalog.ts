import picomatch from "picomatch";
import type { EnvironmentPin, Policy, RolloutStage } from "../core/schema-types.js";
import { type ParsedVersion, tryParseVersion } from "../core/version.js";
import type { NamedDocument, ReleaseFolder, RepositoryTree } from "./load-tree.js";

/** Lookups across the tree that several checks share, built once. */
export interface Catalog {
  /** Releases by canonical version ("2.4.1-stable" and "2.4.1" are one). */
  releases: Map<string, { folder: ReleaseFolder; version: ParsedVersion }>;
  environments: Map<string, NamedDocument<EnvironmentPin>>;
  stages: Map<string, { index: number; stage: RolloutStage }>;
  /** Every policy passed its own checks, so "no policy applies" can be trusted. */
  allPoliciesRead: boolean;
  /** The policies whose appliesTo matches an environment name. */
  policiesFor(environment: string): NamedDocument<Policy>[];
}

export function buildCatalog(tree: RepositoryTree): Catalog {
  const releases: Catalog["releases"] = new Map();
  for (const folder of tree.releases) {
    const version = tryParseVersion(folder.folder);
    if (version && !releases.has(version.canonical))
      releases.set(version.canonical, { folder, version });
  }
  const environments = new Map(tree.environments.map((e) => [e.name, e]));
  const stages: Catalog["stages"] = new Map();
  tree.rollout?.data?.stages.forEach((stage, index) => {
    if (!stages.has(stage.name)) stages.set(stage.name, { index, stage });
  });
  const matchers = tree.policies.map((p) => ({
    policy: p,
    matches: picomatch(p.data?.appliesTo ?? [], { dot: true }),
  }));
  return {
    releases,
    environments,
    stages,
    allPoliciesRead: tree.policies.every((p) => p.data !== undefined),
    policiesFor: (name) =>
      matchers.filter((m) => m.policy.data && m.matches(name)).map((m) => m.policy),
  };
}
