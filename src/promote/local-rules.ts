/**
 * The gate's rules that `promote --local` and `revert --local` cannot judge, and why. Every
 * other rule of the registry (core/gates/registry.ts) is judged in the checkout before the
 * commit, so a rule added there is enforced locally unless it is named here (fail closed).
 * Kept apart from judge-locally.ts so `--help` can name them without loading the rules.
 */
export const NOT_JUDGED_LOCALLY: Readonly<Record<string, string>> = {
  approvals: "reviews are on GitHub",
  "compliance checks": "check runs are on GitHub",
  soak: "whether a version ran healthy long enough is read from GitHub deployments",
  "stage order": "it is the previous stage's soak",
  "maintenance window": "it holds a deploy, not a commit: run pinline deploy inside the window",
};

/** "approvals, compliance checks, soak, stage order and maintenance window". */
export function notJudgedLocally(): string {
  const names = Object.keys(NOT_JUDGED_LOCALLY);
  return names.length < 2
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} and ${names.at(-1) as string}`;
}
