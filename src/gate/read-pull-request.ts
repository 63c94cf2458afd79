/**
 * A pull request's changed files, pinned to the head commit they belong to. GitHub lists at
 * most 3,000 files of a pull request, and the head may move while the list is read; either
 * would leave the gate judging a change it has not seen whole, so both fail closed.
 */
import { PinlineError } from "../core/errors.js";
import type { ChangedFile, Forge, PullRequestInfo } from "../github/forge.js";

/** How often a head that moves while its files are read is read again. */
const ATTEMPTS = 3;

export interface PinnedPullRequest {
  pull: PullRequestInfo;
  files: ChangedFile[];
}

export async function readPullRequestFiles(
  forge: Forge,
  number: number,
): Promise<PinnedPullRequest> {
  let pull = await forge.getPullRequest(number);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const files = await forge.listPullRequestFiles(number);
    const after = await forge.getPullRequest(number);
    if (after.headSha !== pull.headSha || after.baseRef !== pull.baseRef) {
      // Pushed (or retargeted) while the files were read: judge the new head instead.
      pull = after;
      continue;
    }
    if (pull.changedFiles !== undefined && files.length !== pull.changedFiles) {
      throw new PinlineError(
        `GitHub listed ${files.length} of the ${pull.changedFiles} files #${number} changes at ${pull.headSha.slice(0, 7)}, so the change cannot be judged whole`,
        {
          hint: "GitHub lists at most 3,000 files of a pull request: split the change into smaller pull requests",
        },
      );
    }
    return { pull: after, files };
  }
  throw new PinlineError(
    `the head of #${number} kept moving while its files were read (${ATTEMPTS} times)`,
    { hint: "the gate judges it again on the next push or scheduled run" },
  );
}
