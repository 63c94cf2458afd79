import { buildCatalog } from "./catalog.js";
import { checkEnvironments } from "./check-environments.js";
import { checkKeys } from "./check-keys.js";
import { checkPolicies } from "./check-policies.js";
import { checkReleases } from "./check-releases.js";
import { checkRollout } from "./check-rollout.js";
import { checkSignatures } from "./check-signatures.js";
import { countFindings, type Finding, sortFindings } from "./findings.js";
import { type LoadOptions, loadTree, type RepositoryTree } from "./load-tree.js";

export interface ValidationReport {
  root: string;
  /** How many YAML files were read, and of which kind. */
  counts: { files: number; releases: number; policies: number; environments: number };
  /** How many threads read the release folders (worker threads for large trees). */
  threads: number;
  errors: number;
  warnings: number;
  /** Sorted by file, then position. */
  findings: Finding[];
  tree: RepositoryTree;
}

/**
 * The `workflows` rule: workflows that `pinline init` generated still match the pins (a new pin
 * needs its secret in the deploy job). Loaded only where such workflows exist.
 */
async function generatedWorkflowFindings(tree: RepositoryTree): Promise<Finding[]> {
  const { checkWorkflows, hasGeneratedWorkflows } = await import("../init/check-workflows.js");
  return hasGeneratedWorkflows(tree.root) ? checkWorkflows(tree) : [];
}

/**
 * `pinline validate`: every YAML file against its schema, then the rules that span files.
 * Problems are findings; only a root that is no pinline repository throws (UsageError).
 */
export async function validateTree(
  root: string,
  options: LoadOptions = {},
): Promise<ValidationReport> {
  const tree = await loadTree(root, options);
  const catalog = buildCatalog(tree);
  const findings = sortFindings([
    ...tree.findings,
    ...checkReleases(tree.releases, catalog),
    ...checkPolicies(tree.policies, catalog),
    ...checkRollout(tree.rollout, tree.environments.length, catalog),
    ...checkEnvironments(tree.environments, catalog, tree.rollout !== undefined),
    ...checkSignatures(tree.releases, tree.policies, catalog),
    ...checkKeys(root),
    ...(await generatedWorkflowFindings(tree)),
  ]);
  return {
    root,
    counts: {
      files: tree.fileCount,
      releases: tree.releases.length,
      policies: tree.policies.length + (tree.rollout ? 1 : 0),
      environments: tree.environments.length,
    },
    threads: tree.threads,
    ...countFindings(findings),
    findings,
    tree,
  };
}
