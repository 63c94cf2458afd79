import picomatch from "picomatch";
import { UsageError } from "../core/errors.js";
import type {
  EnvironmentPin,
  Policy,
  ReleaseManifest,
  RolloutStage,
} from "../core/schema-types.js";
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

/** An environment's pin, or a UsageError that names the problem: no such environment, or a pin that does not validate. */
export function requirePin(
  catalog: Catalog,
  environment: string,
): { file: string; pin: EnvironmentPin } {
  const document = catalog.environments.get(environment);
  if (document?.data) return { file: document.file, pin: document.data };
  throw new UsageError(
    document ? `${document.file} does not validate` : `no environment "${environment}"`,
    {
      hint: document
        ? "run pinline validate"
        : `environments: ${[...catalog.environments.keys()].join(", ")}`,
    },
  );
}

/** Documents of policies that passed their schema, each with its file (the gate's NamedPolicy). */
export function namedPolicies(
  documents: readonly NamedDocument<Policy>[],
): { file: string; policy: Policy }[] {
  return documents.flatMap((d) => (d.data ? [{ file: d.file, policy: d.data }] : []));
}

/** The policies that apply to an environment and passed their schema. */
export function policiesOf(catalog: Catalog, environment: string): Policy[] {
  return catalog.policiesFor(environment).flatMap((p) => (p.data ? [p.data] : []));
}

/** Every release manifest that passed its schema. */
export function releaseManifests(catalog: Catalog): ReleaseManifest[] {
  return [...catalog.releases.values()].flatMap(({ folder }) => (folder.data ? [folder.data] : []));
}

/** The manifest of a version ("2.4.1-stable" finds 2.4.1), when it exists and validates. */
export function releaseOf(catalog: Catalog, version: string): ReleaseManifest | undefined {
  const canonical = tryParseVersion(version)?.canonical;
  return canonical === undefined ? undefined : catalog.releases.get(canonical)?.folder.data;
}
