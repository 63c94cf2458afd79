/**
 * Fail closed (DESIGN §6): every verb that judges with policies, the rollout or pins — the gate,
 * plan, update-check, verify's threshold, deploy's verify step, feed build — refuses when any of
 * them does not parse or fails its schema. A broken policy must never read as "no policy", nor
 * a broken pin as an environment that is not there.
 */
import { UsageError } from "../core/errors.js";
import { buildCatalog, type Catalog } from "./catalog.js";
import { type Finding, formatFinding, sortFindings } from "./findings.js";
import { loadTree, type RepositoryTree } from "./load-tree.js";

/** Files whose every problem stops judging: the policies, the rollout and the pins. */
function governs(file: string): boolean {
  return file.startsWith("policies/") || file.startsWith("environments/");
}

/** Throws UsageError naming each broken policy, rollout or pin (file:line:col), first one first. */
export function requireSoundGovernance(tree: RepositoryTree, verb: string): void {
  refuseBrokenGovernance(tree.findings, verb);
}

/** requireSoundGovernance over findings read some other way (one document at a time). */
export function refuseBrokenGovernance(findings: readonly Finding[], verb: string): void {
  const broken = sortFindings(
    findings.filter((finding) => finding.severity === "error" && governs(finding.file)),
  );
  const first = broken[0];
  if (!first) return;
  const more = broken.slice(1).map(formatFinding);
  throw new UsageError(
    `${verb} refuses to judge with a policy, rollout or pin that does not validate: ${first.message}${more.length > 0 ? `; also ${more.join("; ")}` : ""}`,
    {
      where: { file: first.file, line: first.line, column: first.column },
      hint: "run pinline validate and fix every finding in policies/ and environments/",
    },
  );
}

/** The base tree's catalog, refused when a policy, rollout or pin does not validate. */
export async function loadSoundCatalog(root: string, verb: string): Promise<Catalog> {
  const tree = await loadTree(root);
  requireSoundGovernance(tree, verb);
  return buildCatalog(tree);
}
