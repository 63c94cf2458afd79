/**
 * Writes the gate's verdict as GitHub's check-run lifecycle allows (DESIGN §6). A completed
 * check run never changes — GitHub refuses a new status or conclusion on it — so a changed
 * verdict (pass → changes requested, a window that closed, a version newly blocked, a failure
 * that recovered) is a NEW check run, and the newest one is what GitHub's required check reads.
 * A waiting verdict keeps its run in progress and updates it; before GitHub marks a run that
 * stayed incomplete for 14 days `stale`, it is replaced by a fresh one.
 *
 * Only the check runs of the gate's own App count as its own (the ruleset requires
 * `pinline/gate` from that App); a same-named run of any other App is never read as a verdict.
 */
import { createHash } from "node:crypto";
import type { CheckRunInfo, CheckRunOutput, Forge } from "../github/forge.js";

/** GitHub marks a check run stale after 14 days incomplete; replace it well before. */
export const RENEW_WAITING_AFTER_MS = 12 * 24 * 60 * 60 * 1000;

/** Marks the external_id of the gate's check runs; the rest is a digest of the verdict. */
const EXTERNAL_ID_PREFIX = "pinline-gate:v1:";

export type PublishAction = "created" | "updated" | "unchanged" | "renewed";

export interface PublishedCheckRun {
  id: number;
  action: PublishAction;
}

/** The digest that says whether two verdicts are the same (ignoring hours that tick by). */
export function verdictDigest(parts: unknown): string {
  const digest = createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  return `${EXTERNAL_ID_PREFIX}${digest.slice(0, 40)}`;
}

function isMine(run: CheckRunInfo, appSlug: string | undefined): boolean {
  return appSlug === undefined || run.appSlug === appSlug;
}

export async function publishVerdict(input: {
  forge: Forge;
  output: CheckRunOutput & { externalId: string };
  now: Date;
  /** The gate App's slug (create-github-app-token's `app-slug`): runs of other Apps are not its own. */
  appSlug?: string | undefined;
}): Promise<PublishedCheckRun> {
  const { forge, output } = input;
  const runs = await forge.listCheckRuns(output.headSha, output.name);
  const newest = runs.filter((run) => isMine(run, input.appSlug))[0];
  if (newest && newest.status !== "completed") {
    const age = input.now.getTime() - (newest.startedAt?.getTime() ?? input.now.getTime());
    if (age < RENEW_WAITING_AFTER_MS) {
      try {
        await forge.updateCheckRun(newest.id, output);
        return { id: newest.id, action: "updated" };
      } catch (error) {
        // Without the App's slug another App's run may look like ours; GitHub refuses to let us
        // change it, and a run of our own is what counts anyway.
        if (input.appSlug !== undefined) throw error;
      }
    } else {
      const created = await forge.createCheckRun(output);
      return { id: created.id, action: "renewed" };
    }
  }
  if (
    newest?.status === "completed" &&
    newest.externalId === output.externalId &&
    newest.conclusion === (output.conclusion ?? null)
  ) {
    return { id: newest.id, action: "unchanged" };
  }
  const created = await forge.createCheckRun(output);
  return { id: created.id, action: "created" };
}
