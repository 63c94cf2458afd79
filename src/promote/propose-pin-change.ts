/**
 * A pin change as a pull request, the one way pinline asks for one (promotions and reverts):
 * a branch per environment and purpose holding one commit on the base branch that changes only
 * the pin's `version` line. Re-running finds the branch and the PR and updates them in place;
 * a branch that already holds the wanted pin is left alone, since moving it would make every
 * approval stale.
 */
import { RefusedError, UsageError } from "../core/errors.js";
import type { Forge, PullRequestInfo } from "../github/forge.js";
import { setPinVersion } from "../repo/set-pin-version.js";

export interface PinChangeProposal {
  pullRequest: PullRequestInfo;
  /** created: a new PR; updated: its title, body or commit changed; unchanged: nothing to do. */
  action: "created" | "updated" | "unchanged";
  /** Whether the branch got a new commit (approvals on the old head no longer count). */
  committed: boolean;
}

export async function proposePinChange(input: {
  forge: Forge;
  /** environments/<name>.yaml */
  file: string;
  version: string;
  branch: string;
  base: string;
  title: string;
  /** The commit message's body. */
  message: string;
  /** A trailer the commit must carry ("Pinline-Retry: 2.4.2"); a head without it is replaced. */
  trailer?: string | undefined;
  body: string;
  label: string;
}): Promise<PinChangeProposal> {
  const { forge, file, branch, base } = input;
  const baseSha = await forge.getBranchSha(base);
  if (!baseSha) {
    throw new UsageError(`the base branch "${base}" does not exist`, { hint: "pass --base" });
  }
  const baseFile = await forge.getFileText(file, baseSha);
  if (!baseFile) {
    throw new RefusedError(`${file} does not exist on ${base}`, {
      hint: "merge the environment first",
    });
  }
  const wanted = setPinVersion(baseFile.text, input.version, file);
  const onBranch = (await forge.getBranchSha(branch))
    ? await forge.getFileText(file, branch)
    : undefined;
  let committed = false;
  const trailer = input.trailer;
  const lacksTrailer =
    trailer !== undefined &&
    onBranch !== undefined &&
    !(await forge.getCommit(branch)).message.split("\n").some((line) => line.trim() === trailer);
  if (onBranch?.text !== wanted || lacksTrailer) {
    await forge.setBranch(branch, baseSha);
    await forge.putFile({
      branch,
      path: file,
      text: wanted,
      message: `${input.title}\n\n${input.message}${trailer ? `\n\n${trailer}` : ""}`,
      blobSha: baseFile.blobSha,
    });
    committed = true;
  }
  const { title, body } = input;
  const [existing] = await forge.listOpenPullRequests({ head: branch, base });
  let pullRequest: PullRequestInfo;
  let action: PinChangeProposal["action"];
  if (!existing) {
    pullRequest = await forge.createPullRequest({ head: branch, base, title, body });
    action = "created";
  } else if (existing.title !== title || existing.body !== body) {
    pullRequest = await forge.updatePullRequest(existing.number, { title, body });
    action = "updated";
  } else {
    pullRequest = existing;
    action = committed ? "updated" : "unchanged";
  }
  if (!pullRequest.labels.includes(input.label)) {
    await forge.addLabels(pullRequest.number, [input.label]);
    pullRequest = { ...pullRequest, labels: [...pullRequest.labels, input.label] };
  }
  return { pullRequest, action, committed };
}
