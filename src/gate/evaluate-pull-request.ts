/**
 * `pinline gate --pr N`: judges a pull request with the base branch's policies, releases, keys
 * and pin history — never the PR's own — and reports ONE verdict, the `pinline/gate` check run
 * on its head commit (DESIGN §6):
 * - only PRs into a protected branch can pass; GitHub reads required checks by head commit, so
 *   the check carries the worst verdict of every open PR whose head is that commit;
 * - a promotion changes only `version`; configuration changes need configuration approvals;
 * - the files are pinned to the judged head and checked against GitHub's count;
 * - a changed verdict is a new check run (publish-verdict.ts).
 * Anything that goes wrong while judging fails the check (fail closed).
 */

import picomatch from "picomatch";
import { PinlineError } from "../core/errors.js";
import { type ConfigurationChange, evaluateConfiguration } from "../core/gates/configuration.js";
import type { GateInput, GateStatus, GateVerdict } from "../core/gates/gate-input.js";
import { clearsAt, evaluateGate, overallStatus, worstStatus } from "../core/gates/registry.js";
import type { Forge, PullRequestInfo } from "../github/forge.js";
import {
  type ConfigurationEvaluation,
  type GateReport,
  type PinEvaluation,
  renderGateSummary,
  renderGateTitle,
} from "../notify/gate-summary.js";
import { buildCatalog, namedPolicies } from "../repo/catalog.js";
import { loadTree, type RepositoryTree } from "../repo/load-tree.js";
import { requireSoundGovernance } from "../repo/require-sound-governance.js";
import { openBaseTree } from "./base-tree.js";
import { classifyChanges } from "./classify-changes.js";
import { GateFacts, type PinChange } from "./collect-gate-input.js";
import { type PublishedCheckRun, publishVerdict, verdictDigest } from "./publish-verdict.js";
import { readPullRequestFiles } from "./read-pull-request.js";

export const GATE_CHECK_NAME = "pinline/gate";

export interface GateRun {
  /** The pull request the check run is written for (the first into a protected branch). */
  pullRequest: PullRequestInfo;
  report: GateReport;
  /** Undefined when the pull request is not open (nothing to gate). */
  checkRun: PublishedCheckRun | undefined;
  /** Every open pull request judged for this head commit. */
  pullRequests: number[];
}

export interface GateOptions {
  /** The checkout the gate runs from: the default branch, with full history. */
  root: string;
  forge: Forge;
  now?: Date | undefined;
  detailsUrl?: string | undefined;
  /** Branch names or globs a PR may pass into; default: the repository's default branch. */
  protectedBranches?: readonly string[] | undefined;
  /** More paths (globs) whose changes are configuration changes (the gate's own code). */
  configurationPaths?: readonly string[] | undefined;
  /** The gate App's slug: only its own check runs are its verdicts. */
  appSlug?: string | undefined;
  /** The open pull requests, when the caller read them this run (a schedule judges them all). */
  openPullRequests?: readonly PullRequestInfo[] | undefined;
}

/** What the gate concluded, as a check run status. */
export function checkRunState(status: GateStatus): {
  status: "in_progress" | "completed";
  conclusion?: "success" | "failure";
} {
  // Waiting stays in progress: a required check that has not completed blocks the merge, and
  // auto-merge proceeds the moment a scheduled re-run completes it with success.
  if (status === "waiting") return { status: "in_progress" };
  return { status: "completed", conclusion: status === "pass" ? "success" : "failure" };
}

export function reportFor(
  tree: RepositoryTree,
  evaluations: PinEvaluation[],
  problems: string[],
  configuration?: ConfigurationEvaluation,
): GateReport {
  const status = worstStatus([
    ...evaluations.map((e) => e.status),
    ...(configuration ? [configuration.status] : []),
    ...(problems.length > 0 ? (["fail"] as const) : []),
  ]);
  const untils = evaluations.filter((e) => e.status === "waiting").map((e) => e.until);
  const until =
    status === "waiting" &&
    configuration?.status !== "waiting" &&
    untils.length > 0 &&
    untils.every((u) => u !== undefined)
      ? new Date(Math.max(...untils.map((u) => (u as Date).getTime())))
      : undefined;
  return {
    status,
    evaluations,
    problems,
    ...(configuration ? { configuration } : {}),
    stages: tree.rollout?.data?.stages ?? [],
    pins: tree.environments.flatMap((e) =>
      e.data ? [{ name: e.name, stage: e.data.stage, version: e.data.version }] : [],
    ),
    until,
  };
}

function failedReport(problems: string[]): GateReport {
  return { status: "fail", evaluations: [], problems, stages: [], pins: [] };
}

export async function evaluateChange(
  facts: GateFacts,
  change: PinChange,
  pull?: PullRequestInfo,
  retry: readonly string[] = [],
): Promise<PinEvaluation> {
  return judgeChange(change, await facts.collect(change, pull, retry));
}

/** Every rule's verdict on one pin change, from the facts already collected for it. */
export function judgeChange(change: PinChange, input: GateInput): PinEvaluation {
  const verdicts = evaluateGate(input);
  return {
    environment: change.environment,
    file: change.file,
    stage: input.stage,
    from: input.from,
    to: input.to,
    verdicts,
    status: overallStatus(verdicts),
    until: clearsAt(verdicts, input),
  };
}

/** The configuration approvals a change needs, from the base branch's policies. */
async function judgeConfiguration(
  facts: GateFacts,
  changes: ConfigurationChange[],
  pull: PullRequestInfo,
): Promise<ConfigurationEvaluation> {
  const policies = namedPolicies(facts.tree.policies);
  const review = await facts.reviewFacts(
    pull,
    policies.map((p) => p.policy.configurationApproval ?? p.policy.approval),
  );
  const verdicts: GateVerdict[] = evaluateConfiguration({
    changes,
    policies,
    policiesFor: (environment) => namedPolicies(facts.catalog.policiesFor(environment)),
    review,
  });
  return { changes, verdicts, status: overallStatus(verdicts) };
}

function describeError(error: unknown): string {
  return error instanceof PinlineError ? error.describe() : String(error);
}

/** One pull request, judged with its own base branch. */
async function judge(
  options: GateOptions,
  isProtected: (branch: string) => boolean,
  now: Date,
  pull: PullRequestInfo,
): Promise<{ pull: PullRequestInfo; report: GateReport }> {
  let judged = pull;
  try {
    const { pull: pinned, files } = await readPullRequestFiles(options.forge, pull.number);
    judged = pinned;
    if (!isProtected(pinned.baseRef)) {
      return {
        pull: judged,
        report: failedReport([
          `the base branch is ${pinned.baseRef}, which is not a protected branch: pinline/gate passes only pull requests into ${(options.protectedBranches ?? []).join(", ")}; retarget the PR`,
        ]),
      };
    }
    const base = await openBaseTree(options.root, pinned.baseRef, pinned.baseSha);
    try {
      const tree = await loadTree(base.root);
      requireSoundGovernance(tree, "the gate");
      const catalog = buildCatalog(tree);
      const classified = await classifyChanges({
        forge: options.forge,
        pull: pinned,
        files,
        catalog,
        configurationPaths: options.configurationPaths,
      });
      const facts = new GateFacts(tree, catalog, now, options.forge);
      const evaluations: PinEvaluation[] = [];
      for (const change of [...classified.promotions, ...classified.newPins]) {
        evaluations.push(await evaluateChange(facts, change, pinned));
      }
      const configuration =
        classified.configuration.length > 0
          ? await judgeConfiguration(facts, classified.configuration, pinned)
          : undefined;
      const report = reportFor(tree, evaluations, classified.problems, configuration);
      if (base.stale) {
        report.notes = [base.stale];
        if (report.status === "pass") report.status = "waiting";
      }
      return { pull: judged, report };
    } finally {
      await base.close();
    }
  } catch (error) {
    return {
      pull: judged,
      report: failedReport([
        `the gate could not judge this PR, so it fails closed: ${describeError(error)}`,
      ]),
    };
  }
}

/** What is the same when a verdict is the same (reasons with ticking hours are not). */
function digestOf(report: GateReport, title: string): string {
  return verdictDigest({
    status: report.status,
    title,
    pins: report.evaluations.map((e) => [
      e.environment,
      e.to,
      e.verdicts.map((v) => [v.rule, v.status]),
    ]),
    configuration: report.configuration?.verdicts.map((v) => [v.rule, v.status]),
    problems: report.problems,
    shared: report.sharedWith?.map((s) => [s.number, s.status]),
  });
}

/**
 * Judges the PR — and every other open PR with the same head commit — and writes the head's
 * check run; a failure to judge is written as a failed check.
 */
export async function gatePullRequest(input: GateOptions & { number: number }): Promise<GateRun> {
  const { forge } = input;
  const now = input.now ?? new Date();
  const requested = await forge.getPullRequest(input.number);
  const protectedBranches = input.protectedBranches?.length
    ? input.protectedBranches
    : [await forge.getDefaultBranch()];
  const options = { ...input, protectedBranches };
  const isProtected = picomatch([...protectedBranches]);
  const first = await judge(options, isProtected, now, requested);
  if (first.pull.state !== "open") {
    return { pullRequest: first.pull, report: first.report, checkRun: undefined, pullRequests: [] };
  }
  const headSha = first.pull.headSha;
  const open = input.openPullRequests ?? (await forge.listOpenPullRequests());
  const sharing = open.filter(
    (pull) => pull.headSha === headSha && pull.number !== first.pull.number,
  );
  const judged = [first];
  for (const pull of sharing) {
    const other = await judge(options, isProtected, now, pull);
    if (other.pull.headSha === headSha && other.pull.state === "open") judged.push(other);
  }
  judged.sort(
    (a, b) =>
      Number(isProtected(b.pull.baseRef)) - Number(isProtected(a.pull.baseRef)) ||
      a.pull.number - b.pull.number,
  );
  const [primary, ...others] = judged as [(typeof judged)[number], ...typeof judged];
  const report: GateReport = { ...primary.report };
  if (others.length > 0) {
    report.sharedWith = others.map((other) => ({
      number: other.pull.number,
      baseRef: other.pull.baseRef,
      status: other.report.status,
      title: renderGateTitle(other.report),
    }));
    report.status = worstStatus([primary.report.status, ...others.map((o) => o.report.status)]);
    if (report.status !== primary.report.status) report.until = undefined;
  }
  const title = renderGateTitle(report);
  const checkRun = await publishVerdict({
    forge,
    now,
    appSlug: input.appSlug,
    output: {
      name: GATE_CHECK_NAME,
      headSha,
      ...checkRunState(report.status),
      title,
      summary: renderGateSummary(report),
      detailsUrl: input.detailsUrl,
      externalId: digestOf(report, title),
    },
  });
  return {
    pullRequest: primary.pull,
    report,
    checkRun,
    pullRequests: judged.map((j) => j.pull.number),
  };
}
