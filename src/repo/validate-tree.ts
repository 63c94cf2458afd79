import { buildCatalog } from "./catalog.js";
import { checkEnvironments } from "./check-environments.js";
import { checkPolicies } from "./check-policies.js";
import { checkReleases } from "./check-releases.js";
import { checkRollout } from "./check-rollout.js";
import { countFindings, type Finding, sortFindings } from "./findings.js";
import { loadTree, type RepositoryTree } from "./load-tree.js";

export interface ValidationReport {
  root: string;
  /** How many YAML files were read, and of which kind. */
  counts: { files: number; releases: number; policies: number; environments: number };
  errors: number;
  warnings: number;
  /** Sorted by file, then position. */
  findings: Finding[];
  tree: RepositoryTree;
}

/**
 * `pinline validate`: every YAML file against its schema, then the rules that span files.
 * Problems are findings; only a root that is no pinline repository throws (UsageError).
 */
export function validateTree(root: string): ValidationReport {
  const tree = loadTree(root);
  const catalog = buildCatalog(tree);
  const findings = sortFindings([
    ...tree.findings,
    ...checkReleases(tree.releases, catalog),
    ...checkPolicies(tree.policies, catalog),
    ...checkRollout(tree.rollout, tree.environments.length, catalog),
    ...checkEnvironments(tree.environments, catalog, tree.rollout !== undefined),
  ]);
  return {
    root,
    counts: {
      files: tree.fileCount,
      releases: tree.releases.length,
      policies: tree.policies.length + (tree.rollout ? 1 : 0),
      environments: tree.environments.length,
    },
    ...countFindings(findings),
    findings,
    tree,
  };
}
