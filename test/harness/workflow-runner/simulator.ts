/**
 * What the runner asks of the GitHub simulator: the default branch, refs/pull/N/merge, where
 * a pull request's head lives (fork or not) and the job's GITHUB_TOKEN, through the
 * simulator's own calls (sim.defaultBranch, sim.pullMergeCommit, sim.state.forks,
 * sim.actionsToken).
 */
import type { GitHubSimulator, PullRequest } from "../github-simulator.js";

export type TokenPermissions = Record<string, "read" | "write" | "none">;

export function defaultBranch(sim: GitHubSimulator): string {
  return sim.defaultBranch;
}

export function findPull(sim: GitHubSimulator, number: number): PullRequest {
  const pull = sim.state.pulls.find((candidate) => candidate.number === number);
  if (!pull) throw new Error(`no pull request #${number} in the simulator`);
  return pull;
}

/** The commit of refs/pull/N/merge; null when the pull request conflicts. */
export function mergeCommit(sim: GitHubSimulator, pull: PullRequest): string | null {
  return sim.pullMergeCommit(pull.number);
}

/** Where a pull request's head lives: owner/repo, and whether that is a fork. */
export function headRepository(
  sim: GitHubSimulator,
  pull: PullRequest,
): { owner: string; repo: string; fork: boolean; id?: number } {
  const owner = pull.headOwner;
  if (!owner || owner.toLowerCase() === sim.owner.toLowerCase()) {
    return { owner: sim.owner, repo: sim.repo, fork: false };
  }
  const fork = sim.state.forks.find(
    (candidate) => candidate.owner.toLowerCase() === owner.toLowerCase(),
  );
  return {
    owner: fork?.owner ?? owner,
    repo: fork?.repo ?? sim.repo,
    fork: true,
    ...(fork ? { id: fork.id } : {}),
  };
}

/** The job's GITHUB_TOKEN: an installation token of the github-actions App (id 15368). */
export function mintActionsToken(
  sim: GitHubSimulator,
  permissions: TokenPermissions,
  readOnly: boolean,
): string {
  return sim.actionsToken({ permissions, readOnly });
}

/** "The token expires when the job is finished" (GITHUB_TOKEN docs): revoked at job end. */
export async function expireActionsToken(sim: GitHubSimulator, token: string): Promise<void> {
  await fetch(`${sim.url}/installation/token`, {
    method: "DELETE",
    headers: { authorization: `token ${token}`, accept: "application/vnd.github+json" },
  });
}
