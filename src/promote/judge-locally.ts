/**
 * The policy for the local verbs (`promote --local`, `revert --local`): a repository without
 * GitHub has no gate, so before they commit a pin change they judge it with the gate's own
 * rules (core/gates/registry.ts), on facts gathered as `pinline plan` gathers them offline —
 * the checkout's policies, releases, keys and pin history. The rules local-rules.ts names are
 * left out; every other rule must pass, or the verb refuses, naming each failing rule and what
 * to do.
 */
import { RefusedError } from "../core/errors.js";
import type { GateInput, GateVerdict } from "../core/gates/gate-input.js";
import { evaluateGate } from "../core/gates/registry.js";
import { GateFacts, type PinChange } from "../gate/collect-gate-input.js";
import type { Catalog } from "../repo/catalog.js";
import type { RepositoryTree } from "../repo/load-tree.js";
import { NOT_JUDGED_LOCALLY, notJudgedLocally } from "./local-rules.js";

export interface LocalJudgement {
  environment: string;
  from: string;
  to: string;
  /** Every rule judged in the checkout, with the gate's verdict. */
  judged: GateVerdict[];
  /** The rules left out (local-rules.ts), by name. */
  notJudged: string[];
}

/** The gate's facts offline: every GateFacts lookup of one run shares one read of the history. */
export function localFacts(tree: RepositoryTree, catalog: Catalog, now = new Date()): GateFacts {
  return new GateFacts(tree, catalog, now);
}

/** What the rules judge one pin change on; `retry` re-allows a version reverted there. */
export function collectLocalInput(
  facts: GateFacts,
  change: PinChange,
  retry = false,
): Promise<GateInput> {
  return facts.collect(change, undefined, retry ? [change.after.version] : []);
}

export function judgeLocally(input: GateInput): LocalJudgement {
  const verdicts = evaluateGate(input);
  const left = (verdict: GateVerdict) => Object.hasOwn(NOT_JUDGED_LOCALLY, verdict.rule);
  return {
    environment: input.environment,
    from: input.from,
    to: input.to,
    judged: verdicts.filter((verdict) => !left(verdict)),
    notJudged: verdicts.filter(left).map((verdict) => verdict.rule),
  };
}

/** What to do about a failing rule whose reason does not already say it. */
const WHAT_TO_DO: Readonly<Record<string, (j: LocalJudgement) => string>> = {
  signatures: (j) =>
    `sign releases/${j.to} with trusted keys (pinline sign releases/${j.to} --key FILE); pinline verify releases/${j.to} says why a signature does not count`,
  "blocked versions": () => "promote a version no applying policy blocks",
  channel: (j) =>
    `promote a version ${j.environment}'s channel receives, or change update.channel or the policy's allowedChannels in a reviewed change first`,
  compatibility: (j) =>
    `promote a release whose compatibility covers the platform, or correct platform in environments/${j.environment}.yaml first`,
};

/** The summary line of a judgement that passed. */
export function describeJudgement(judgement: Pick<LocalJudgement, "judged" | "notJudged">): string {
  const passed = judgement.judged.map((verdict) => verdict.rule).join(", ");
  return `judged locally: ${passed} passed; not judged locally: ${judgement.notJudged.join(", ")}`;
}

/**
 * Throws RefusedError (exit 1) unless every rule judged in the checkout passed: one line per
 * failing rule, its reason and what to do.
 */
export function refuseUnlessPassed(judgement: LocalJudgement, verb: string): void {
  const failing = judgement.judged.filter((verdict) => verdict.status !== "pass");
  if (failing.length === 0) return;
  const lines = failing.map((verdict) => {
    const todo = WHAT_TO_DO[verdict.rule]?.(judgement);
    return `  ✗ ${verdict.rule}: ${verdict.reason}${todo ? ` → ${todo}` : ""}`;
  });
  const { environment, from, to } = judgement;
  throw new RefusedError(
    `${verb} refuses ${environment} ${from} → ${to}: the policy does not allow it\n${lines.join("\n")}\n`,
    {
      hint: `pinline plan ${environment} --to ${to} shows every rule; ${notJudgedLocally()} are not judged locally`,
    },
  );
}
