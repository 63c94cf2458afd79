/** The workflow runner's public types (re-exported by ../workflow-runner.ts). */

export interface RepositorySettings {
  /** Repository secrets. */
  secrets?: Record<string, string>;
  /** Repository variables (`vars.*`). */
  variables?: Record<string, string>;
  environments?: Record<
    string,
    {
      secrets?: Record<string, string>;
      variables?: Record<string, string>;
      /** Deployment branch policy: branch-name patterns (fnmatch, e.g. "main", "release/*"); undefined = any branch. */
      deploymentBranches?: string[];
    }
  >;
  /** Default GITHUB_TOKEN permissions when a workflow/job declares none (GitHub's repository setting): "read" (default) or "write". */
  defaultTokenPermissions?: "read" | "write";
  /** Maps `uses: <owner>/<repo>/<path>@<ref>` of remote actions to a local directory (e.g. acme/pinline → the repo root). */
  remoteActions?: Record<string, string>;
}

/** What a previous run reports to `workflow_run` (a WorkflowRunResult is one). */
export interface CompletedRun {
  id: number;
  workflowName: string;
  eventName: string;
  headSha: string;
  headBranch: string;
  conclusion: "success" | "failure";
  file?: string;
  actor?: string;
  /** owner/repo the head came from (a fork's for fork PRs). */
  headRepository?: string;
  /** Pull requests GitHub lists on the run (empty for fork PRs). */
  pullRequests?: number[];
}

export type TriggerEvent =
  | {
      name: "pull_request" | "pull_request_target";
      action: "opened" | "synchronize" | "reopened" | "edited" | "ready_for_review" | "closed";
      pull: number;
      changes?: Record<string, unknown>;
      sender: string;
      /** synchronize: the head before the push (default: the new head's first parent). */
      before?: string;
    }
  | {
      name: "pull_request_review";
      action: "submitted" | "edited" | "dismissed";
      pull: number;
      sender: string;
      review?: { state: string; commitId: string };
    }
  | { name: "workflow_run"; action: "completed" | "requested"; run: CompletedRun }
  | { name: "schedule"; cron: string }
  | { name: "push"; ref: string; before: string; after: string; sender: string }
  | {
      name: "workflow_dispatch";
      ref: string;
      inputs?: Record<string, string>;
      sender: string;
      /** The workflow dispatched (file path or file name); every dispatchable one when absent. */
      workflow?: string;
    };

export interface PlannedRun {
  /** ".github/workflows/gate.yml" */
  file: string;
  /** Its `name:` (or the file path when absent, as GitHub does). */
  workflowName: string;
  /** The commit whose copy of the workflow file runs. */
  sourceSha: string;
  eventName: string;
  /** The webhook payload as GitHub would send it. */
  payload: Record<string, unknown>;
  githubSha: string;
  githubRef: string;
  /** Whether repository/organization secrets are passed (false for fork PRs on pull_request*). */
  secretsAvailable: boolean;
  /** GITHUB_TOKEN is read-only (fork PRs on pull_request*). */
  tokenReadOnly: boolean;
  /** github.actor */
  actor: string;
  /** github.base_ref / github.head_ref ("" outside pull request events). */
  baseRef: string;
  headRef: string;
  /** What the run reports as head_sha / head_branch (a PR's head for pull_request). */
  runHeadSha: string;
  runHeadBranch: string;
  headRepository: string;
  pullRequests: number[];
}

export interface StepResult {
  id?: string;
  name: string;
  uses?: string;
  /** The script after `${{ }}` evaluation: what the shell received. */
  run?: string;
  /** After continue-on-error (a failed step that may fail concludes success). */
  conclusion: "success" | "failure" | "skipped";
  outcome: "success" | "failure" | "skipped";
  outputs: Record<string, string>;
  stdout: string;
  stderr: string;
  summary: string;
  error?: string;
  /** Why the step did nothing but succeed (actions skipped by design, see SKIPPED_ACTIONS). */
  note?: string;
}

export interface JobResult {
  id: string;
  /** The display name (`name:`, with the matrix values for matrix jobs). */
  name: string;
  matrix?: Record<string, unknown>;
  conclusion: "success" | "failure" | "skipped";
  environment?: string;
  /** Set when the environment's deployment branch policy refused the job's ref, with GitHub's message. */
  environmentRefused?: string;
  tokenPermissions: Record<string, string>;
  /** Names of the secrets the job could read (repository + environment; GITHUB_TOKEN not listed). */
  secretsSeen: string[];
  /** The job's GITHUB_TOKEN (for assertions on what it may do). */
  token?: string;
  steps: StepResult[];
  outputs: Record<string, string>;
  error?: string;
}

export interface WorkflowRunResult {
  id: number;
  workflowName: string;
  file: string;
  eventName: string;
  headSha: string;
  headBranch: string;
  conclusion: "success" | "failure";
  jobs: JobResult[];
  actor: string;
  headRepository: string;
  pullRequests: number[];
  /** An invalid workflow file: GitHub's parser errors (the run fails with no jobs). */
  errors?: string[];
}
