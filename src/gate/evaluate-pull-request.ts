/**
 * `pinline gate --pr N`: every pin the pull request changes, judged against every rule with the
 * policies, releases and history of the base branch (the checkout) — never the PR's own
 * policies — and reported as ONE check run, `pinline/gate`. Anything that goes wrong while
 * judging fails the check (fail closed).
 */

import { PinlineError } from "../core/errors.js";
import type { GateStatus } from "../core/gates/gate-input.js";
import { clearsAt, evaluateGate, overallStatus } from "../core/gates/registry.js";
import type { EnvironmentPin } from "../core/schema-types.js";
import type { Forge, PullRequestInfo } from "../github/forge.js";
import {
  type GateReport,
  type PinEvaluation,
  renderGateSummary,
  renderGateTitle,
} from "../notify/gate-summary.js";
import { buildCatalog, type Catalog } from "../repo/catalog.js";
import { loadTree, type RepositoryTree } from "../repo/load-tree.js";
import { checkDocument } from "../repo/read-document.js";
import { GateFacts, type PinChange } from "./collect-gate-input.js";
import { headCommit } from "./read-git.js";

export const GATE_CHECK_NAME = "pinline/gate";

const PIN_FILE = /^environments\/([a-z0-9][a-z0-9-]*)\.yaml$/;

/** Files a promotion PR may touch besides pins: none. Policies, releases and keys change in their own PRs. */
function describeOtherFile(path: string): string {
  return `${path} is not an environment pin: a promotion PR changes only environments/*.yaml, so that approvals of the promotion cannot carry a change of policy, release or key with them`;
}

async function readChanges(
  forge: Forge,
  pull: PullRequestInfo,
  catalog: Catalog,
): Promise<{ changes: PinChange[]; problems: string[] }> {
  const files = await forge.listPullRequestFiles(pull.number);
  const changes: PinChange[] = [];
  const problems: string[] = [];
  const touchesPins = files.some((file) => file.path.startsWith("environments/"));
  for (const file of files) {
    const match = PIN_FILE.exec(file.path);
    if (!match) {
      // A PR that changes no pin (a release, a policy, docs) is not a promotion: nothing to gate.
      if (touchesPins) problems.push(describeOtherFile(file.path));
      continue;
    }
    const name = match[1] as string;
    if (file.status === "removed") {
      problems.push(
        `${file.path} is deleted: retiring an environment is not a promotion; do it in its own PR`,
      );
      continue;
    }
    if (file.previousPath && file.previousPath !== file.path) {
      problems.push(
        `${file.path} is renamed from ${file.previousPath}: rename environments in their own PR`,
      );
      continue;
    }
    const head = await forge.getFileText(file.path, pull.headSha);
    if (!head) {
      problems.push(`${file.path} could not be read at ${pull.headSha.slice(0, 7)}`);
      continue;
    }
    const record = checkDocument("environment", file.path, { text: head.text });
    const value = record.value as EnvironmentPin | undefined;
    if (!record.valid || !value) {
      const first = record.findings[0];
      const where = first
        ? `${first.file}:${first.line}:${first.column}: ${first.message}`
        : file.path;
      problems.push(`${where} (run pinline validate)`);
      continue;
    }
    if (value.name !== name) {
      problems.push(`${file.path} names environment "${value.name}": the name must match the file`);
      continue;
    }
    changes.push({
      environment: name,
      file: file.path,
      before: catalog.environments.get(name)?.data,
      after: value,
    });
  }
  return { changes, problems };
}

export interface GateRun {
  pullRequest: PullRequestInfo;
  report: GateReport;
  checkRun: { id: number; created: boolean };
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
): GateReport {
  const statuses: GateStatus[] = [
    ...evaluations.map((e) => e.status),
    ...(problems.length > 0 ? (["fail"] as const) : []),
  ];
  const status = statuses.includes("fail")
    ? "fail"
    : statuses.includes("waiting")
      ? "waiting"
      : "pass";
  const untils = evaluations.filter((e) => e.status === "waiting").map((e) => e.until);
  const until =
    status === "waiting" && untils.every((u) => u !== undefined)
      ? new Date(Math.max(...untils.map((u) => (u as Date).getTime())))
      : undefined;
  return {
    status,
    evaluations,
    problems,
    stages: tree.rollout?.data?.stages ?? [],
    pins: tree.environments.flatMap((e) =>
      e.data ? [{ name: e.name, stage: e.data.stage, version: e.data.version }] : [],
    ),
    until,
  };
}

export async function evaluateChange(
  facts: GateFacts,
  change: PinChange,
  pull?: PullRequestInfo,
  pushers: readonly string[] = [],
): Promise<PinEvaluation> {
  const input = await facts.collect(change, pull, pushers);
  const verdicts = evaluateGate(input);
  return {
    environment: change.environment,
    file: change.file,
    stage: change.after.stage,
    from: input.from,
    to: input.to,
    verdicts,
    status: overallStatus(verdicts),
    until: clearsAt(verdicts, input),
  };
}

/**
 * Who pushed a commit is not in GitHub's REST API; the `pull_request` webhook that a push
 * triggers names them (its sender). The gate keeps that name in its check run on the commit,
 * so later runs (a review, the schedule) still know whose approval must not count.
 */
const PUSHER_PREFIX = "pushed-by:";

async function recordedPusher(forge: Forge, headSha: string): Promise<string | undefined> {
  const runs = await forge.listCheckRuns(headSha);
  const mine = runs.find((run) => run.name === GATE_CHECK_NAME && run.headSha === headSha);
  const id = mine?.externalId ?? "";
  return id.startsWith(PUSHER_PREFIX) ? id.slice(PUSHER_PREFIX.length) : undefined;
}

/** The gate reads policies from the checkout: say so when it is not the base branch's head. */
async function describeStaleCheckout(
  root: string,
  forge: Forge,
  pull: PullRequestInfo,
): Promise<string | undefined> {
  const [local, base] = await Promise.all([headCommit(root), forge.getBranchSha(pull.baseRef)]);
  if (!base || local === base) return undefined;
  return `policies, releases and pin history were read at ${local.slice(0, 7)}, but ${pull.baseRef} is at ${base.slice(0, 7)}: judge from an up-to-date checkout of ${pull.baseRef}`;
}

/** Judges the PR and writes its check run; a failure to judge is written as a failed check. */
export async function gatePullRequest(input: {
  root: string;
  forge: Forge;
  number: number;
  now?: Date;
  detailsUrl?: string | undefined;
  /** From a push's webhook (opened, synchronize, reopened): who pushed which head commit. */
  pushedBy?: { sha: string; login: string } | undefined;
}): Promise<GateRun> {
  const pull = await input.forge.getPullRequest(input.number);
  let report: GateReport;
  let pusher: string | undefined;
  try {
    pusher =
      input.pushedBy?.sha === pull.headSha
        ? input.pushedBy.login
        : await recordedPusher(input.forge, pull.headSha);
    const tree = await loadTree(input.root);
    const catalog = buildCatalog(tree);
    const facts = new GateFacts(tree, catalog, input.now ?? new Date(), input.forge);
    const { changes, problems } = await readChanges(input.forge, pull, catalog);
    const evaluations: PinEvaluation[] = [];
    const pushers = pusher ? [pusher] : [];
    for (const change of changes) {
      evaluations.push(await evaluateChange(facts, change, pull, pushers));
    }
    report = reportFor(tree, evaluations, problems);
    const note = await describeStaleCheckout(input.root, input.forge, pull);
    if (note) report.notes = [note];
  } catch (error) {
    const message = error instanceof PinlineError ? error.describe() : String(error);
    report = {
      status: "fail",
      evaluations: [],
      problems: [`the gate could not judge this PR, so it fails closed: ${message}`],
      stages: [],
      pins: [],
    };
  }
  if (pull.state !== "open") {
    return { pullRequest: pull, report, checkRun: { id: 0, created: false } };
  }
  const checkRun = await input.forge.publishCheckRun({
    name: GATE_CHECK_NAME,
    headSha: pull.headSha,
    ...checkRunState(report.status),
    title: renderGateTitle(report),
    summary: renderGateSummary(report),
    detailsUrl: input.detailsUrl,
    externalId: pusher ? `${PUSHER_PREFIX}${pusher}` : undefined,
  });
  return { pullRequest: pull, report, checkRun };
}
