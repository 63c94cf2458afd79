/**
 * Forge on GitHub's REST and GraphQL APIs through Octokit. Writes are idempotent: a check run
 * is found by name on its commit before one is created, a branch is moved rather than
 * recreated, labels are added (never replaced).
 */
import { RequestError } from "@octokit/request-error";
import { PinlineError } from "../core/errors.js";
import type { Permission, Review, ReviewState } from "../core/gates/gate-input.js";
import { tryParseVersion } from "../core/version.js";
import type { PinlineOctokit } from "./create-octokit.js";
import type {
  ChangedFile,
  CheckRunInfo,
  CheckRunOutput,
  CommentInfo,
  CommitInfo,
  DeploymentInfo,
  DeploymentStatusInfo,
  Forge,
  PullRequestInfo,
  Pusher,
  RepositoryRef,
} from "./forge.js";

/** The subset of GitHub's pull request object pinline reads. */
interface PullPayload {
  number: number;
  node_id: string;
  title: string;
  body?: string | null;
  state: string;
  merged?: boolean | null;
  merged_at?: string | null;
  user: { login: string } | null;
  head: { ref: string; sha: string; repo?: { full_name?: string } | null };
  base: { ref: string; sha: string };
  draft?: boolean;
  changed_files?: number;
  labels: ({ name?: string } | string)[];
  html_url: string;
  auto_merge?: unknown;
}

function toPullRequest(pull: PullPayload): PullRequestInfo {
  return {
    number: pull.number,
    nodeId: pull.node_id,
    title: pull.title,
    body: pull.body ?? "",
    state: pull.state === "open" ? "open" : "closed",
    merged: Boolean(pull.merged ?? pull.merged_at),
    author: pull.user?.login ?? "",
    headRef: pull.head.ref,
    headSha: pull.head.sha,
    headRepository: pull.head.repo?.full_name ?? undefined,
    baseRef: pull.base.ref,
    baseSha: pull.base.sha,
    draft: pull.draft === true,
    changedFiles: typeof pull.changed_files === "number" ? pull.changed_files : undefined,
    labels: pull.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))),
    htmlUrl: pull.html_url,
    autoMerge: Boolean(pull.auto_merge),
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof RequestError && error.status === 404;
}

/** GitHub's commit author of web edits; it never pushed anything itself. */
const WEB_FLOW = "web-flow";

/** The activities that move a branch to a commit (GET /repos/{owner}/{repo}/activity). */
const MOVES_BRANCH = new Set([
  "push",
  "force_push",
  "branch_creation",
  "pr_merge",
  "merge_queue_merge",
]);

/** A login as a commit names it, web-flow (GitHub itself) left out. */
function pusherLogin(user: { login?: string } | null | undefined): string | undefined {
  const login = user?.login;
  return login && login !== WEB_FLOW ? login : undefined;
}

function checkRunOf(run: {
  id: number;
  name: string;
  head_sha: string;
  status: CheckRunInfo["status"];
  conclusion: string | null;
  started_at?: string | null;
  completed_at?: string | null;
  external_id?: string | null;
  app?: { id?: number; slug?: string } | null;
}): CheckRunInfo {
  return {
    id: run.id,
    name: run.name,
    headSha: run.head_sha,
    status: run.status,
    conclusion: run.conclusion,
    startedAt: run.started_at ? new Date(run.started_at) : undefined,
    completedAt: run.completed_at ? new Date(run.completed_at) : undefined,
    appId: run.app?.id ?? undefined,
    appSlug: run.app?.slug ?? undefined,
    externalId: run.external_id,
  };
}

/** The fields of a check run write, shared by create and update. */
function checkRunBody(output: CheckRunOutput) {
  return {
    name: output.name,
    status: output.status,
    ...(output.status === "completed"
      ? { conclusion: output.conclusion ?? "neutral", completed_at: new Date().toISOString() }
      : {}),
    ...(output.detailsUrl ? { details_url: output.detailsUrl } : {}),
    ...(output.externalId ? { external_id: output.externalId } : {}),
    output: {
      title: output.title,
      summary: output.summary,
      ...(output.text ? { text: output.text } : {}),
    },
  };
}

/** GitHub's answer to a PAT writing check runs, explained. */
function checkWriteRefused(error: unknown): PinlineError | undefined {
  if (!(error instanceof RequestError) || error.status !== 403) return undefined;
  return new PinlineError(`GitHub refused to write the check run: ${error.message}`, {
    hint: "only a GitHub App can write check runs: run the gate with the pinline App's installation token (actions/create-github-app-token), not a personal token",
    cause: error,
  });
}

function readPayloadVersion(payload: unknown): string | undefined {
  let value = payload;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value && typeof value === "object" && "version" in value) {
    const version = (value as { version: unknown }).version;
    return typeof version === "string" ? version : undefined;
  }
  return undefined;
}

export class OctokitForge implements Forge {
  constructor(
    private readonly octokit: PinlineOctokit,
    readonly repository: RepositoryRef,
  ) {}

  private get repo(): RepositoryRef {
    return { owner: this.repository.owner, repo: this.repository.repo };
  }

  async getDefaultBranch(): Promise<string> {
    const { data } = await this.octokit.rest.repos.get({ ...this.repo });
    return data.default_branch;
  }

  async getPullRequest(number: number): Promise<PullRequestInfo> {
    const { data } = await this.octokit.rest.pulls.get({ ...this.repo, pull_number: number });
    return toPullRequest(data as PullPayload);
  }

  async listOpenPullRequests(
    filter: { head?: string; base?: string } = {},
  ): Promise<PullRequestInfo[]> {
    const pulls = await this.octokit.paginate(this.octokit.rest.pulls.list, {
      ...this.repo,
      state: "open",
      per_page: 100,
      ...(filter.head ? { head: `${this.repository.owner}:${filter.head}` } : {}),
      ...(filter.base ? { base: filter.base } : {}),
    });
    return pulls.map((pull) => toPullRequest(pull as PullPayload));
  }

  async listPullRequestsOfCommit(sha: string): Promise<PullRequestInfo[]> {
    const { data } = await this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      ...this.repo,
      commit_sha: sha,
    });
    return data.map((pull) => toPullRequest(pull as PullPayload));
  }

  async listPullRequestFiles(number: number): Promise<ChangedFile[]> {
    const files = await this.octokit.paginate(this.octokit.rest.pulls.listFiles, {
      ...this.repo,
      pull_number: number,
      per_page: 100,
    });
    return files.map((file) => ({
      path: file.filename,
      status: file.status,
      previousPath: file.previous_filename,
    }));
  }

  async getCommit(sha: string): Promise<CommitInfo> {
    const { data } = await this.octokit.rest.repos.getCommit({ ...this.repo, ref: sha });
    return {
      sha: data.sha,
      message: data.commit.message,
      authorLogin: pusherLogin(data.author),
      committerLogin: pusherLogin(data.committer),
    };
  }

  async findPusher(branch: string, sha: string): Promise<Pusher> {
    const pages = this.octokit.paginate.iterator(this.octokit.rest.repos.listActivities, {
      ...this.repo,
      ref: `refs/heads/${branch}`,
      direction: "desc",
      per_page: 100,
    });
    try {
      for await (const { data } of pages) {
        for (const activity of data) {
          if (activity.after !== sha || !MOVES_BRANCH.has(activity.activity_type)) continue;
          const login = activity.actor?.login;
          return login
            ? { login }
            : { unknown: `GitHub's record of the ${activity.activity_type} names no account` };
        }
      }
    } catch (error) {
      if (error instanceof RequestError && (error.status === 403 || error.status === 404)) {
        return {
          unknown: `GitHub refused to list the repository's activity (${error.status}): the token needs contents: read`,
        };
      }
      throw error;
    }
    return { unknown: `GitHub has no record of a push of it to ${branch}` };
  }

  async listReviews(number: number): Promise<Review[]> {
    const reviews = await this.octokit.paginate(this.octokit.rest.pulls.listReviews, {
      ...this.repo,
      pull_number: number,
      per_page: 100,
    });
    return reviews.map((review) => ({
      id: review.id,
      user: review.user?.login ?? "",
      state: review.state as ReviewState,
      commitId: review.commit_id ?? "",
      submittedAt: new Date(review.submitted_at ?? 0),
      bot: review.user?.type === "Bot",
    }));
  }

  async getPermission(user: string): Promise<Permission> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({
        ...this.repo,
        username: user,
      });
      // role_name keeps maintain and triage, which `permission` folds into write and read.
      const role = data.role_name as Permission;
      const known: Permission[] = ["admin", "maintain", "write", "triage", "read", "none"];
      return known.includes(role) ? role : (data.permission as Permission);
    } catch (error) {
      if (isNotFound(error)) return "none";
      throw error;
    }
  }

  async isTeamMember(team: string, user: string): Promise<boolean> {
    const [org, slug] = team.replace(/^@/, "").split("/");
    if (!org || !slug) return false;
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({
        org,
        team_slug: slug,
        username: user,
      });
      return data.state === "active";
    } catch (error) {
      if (isNotFound(error)) return false;
      if (error instanceof RequestError && error.status === 403) {
        throw new PinlineError(`cannot read the members of ${team}: ${error.message}`, {
          hint: "team approvers need a token with the organization's members:read permission (a GitHub App token); the workflow's GITHUB_TOKEN cannot read teams",
          cause: error,
        });
      }
      throw error;
    }
  }

  async getFileText(
    path: string,
    ref: string,
  ): Promise<{ text: string; blobSha: string } | undefined> {
    try {
      const { data } = await this.octokit.rest.repos.getContent({ ...this.repo, path, ref });
      if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return undefined;
      return { text: Buffer.from(data.content, "base64").toString("utf8"), blobSha: data.sha };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async listCheckRuns(ref: string, name?: string): Promise<CheckRunInfo[]> {
    const runs = await this.octokit.paginate(this.octokit.rest.checks.listForRef, {
      ...this.repo,
      ref,
      filter: "all",
      per_page: 100,
      ...(name ? { check_name: name } : {}),
    });
    return runs.map(checkRunOf).sort((a, b) => b.id - a.id);
  }

  async createCheckRun(output: CheckRunOutput): Promise<CheckRunInfo> {
    try {
      const { data } = await this.octokit.rest.checks.create({
        ...this.repo,
        ...checkRunBody(output),
        head_sha: output.headSha,
      });
      return checkRunOf(data);
    } catch (error) {
      throw checkWriteRefused(error) ?? error;
    }
  }

  async updateCheckRun(id: number, output: CheckRunOutput): Promise<void> {
    try {
      await this.octokit.rest.checks.update({
        ...this.repo,
        ...checkRunBody(output),
        check_run_id: id,
      });
    } catch (error) {
      throw checkWriteRefused(error) ?? error;
    }
  }

  async listDeployments(environment: string): Promise<DeploymentInfo[]> {
    const deployments = await this.octokit.paginate(this.octokit.rest.repos.listDeployments, {
      ...this.repo,
      environment,
      per_page: 100,
    });
    return deployments.map((deployment) => ({
      id: deployment.id,
      environment: deployment.environment ?? environment,
      sha: deployment.sha,
      ref: deployment.ref,
      version:
        readPayloadVersion(deployment.payload) ??
        tryParseVersion(deployment.ref.replace(/^v/, ""))?.raw,
      createdAt: new Date(deployment.created_at),
    }));
  }

  async listDeploymentStatuses(deploymentId: number): Promise<DeploymentStatusInfo[]> {
    const statuses = await this.octokit.paginate(this.octokit.rest.repos.listDeploymentStatuses, {
      ...this.repo,
      deployment_id: deploymentId,
      per_page: 100,
    });
    return statuses
      .map((status) => ({
        state: status.state as DeploymentStatusInfo["state"],
        createdAt: new Date(status.created_at),
      }))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async getBranchSha(branch: string): Promise<string | undefined> {
    try {
      const { data } = await this.octokit.rest.git.getRef({ ...this.repo, ref: `heads/${branch}` });
      return data.object.sha;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async setBranch(branch: string, sha: string): Promise<void> {
    const current = await this.getBranchSha(branch);
    if (current === sha) return;
    if (current === undefined) {
      await this.octokit.rest.git.createRef({ ...this.repo, ref: `refs/heads/${branch}`, sha });
    } else {
      await this.octokit.rest.git.updateRef({
        ...this.repo,
        ref: `heads/${branch}`,
        sha,
        force: true,
      });
    }
  }

  async deleteBranch(branch: string): Promise<void> {
    try {
      await this.octokit.rest.git.deleteRef({ ...this.repo, ref: `heads/${branch}` });
    } catch (error) {
      if (!isNotFound(error) && !(error instanceof RequestError && error.status === 422))
        throw error;
    }
  }

  async putFile(input: {
    branch: string;
    path: string;
    text: string;
    message: string;
    blobSha?: string | undefined;
  }): Promise<string> {
    const { data } = await this.octokit.rest.repos.createOrUpdateFileContents({
      ...this.repo,
      path: input.path,
      branch: input.branch,
      message: input.message,
      content: Buffer.from(input.text, "utf8").toString("base64"),
      ...(input.blobSha ? { sha: input.blobSha } : {}),
    });
    return data.commit.sha ?? "";
  }

  async createPullRequest(input: {
    head: string;
    base: string;
    title: string;
    body: string;
  }): Promise<PullRequestInfo> {
    const { data } = await this.octokit.rest.pulls.create({ ...this.repo, ...input });
    return toPullRequest(data as PullPayload);
  }

  async updatePullRequest(
    number: number,
    input: { title?: string; body?: string; state?: "open" | "closed" },
  ): Promise<PullRequestInfo> {
    const { data } = await this.octokit.rest.pulls.update({
      ...this.repo,
      pull_number: number,
      ...input,
    });
    return toPullRequest(data as PullPayload);
  }

  async addLabels(number: number, labels: readonly string[]): Promise<void> {
    await this.octokit.rest.issues.addLabels({
      ...this.repo,
      issue_number: number,
      labels: [...labels],
    });
  }

  async listComments(number: number): Promise<CommentInfo[]> {
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      ...this.repo,
      issue_number: number,
      per_page: 100,
    });
    return comments.map((c) => ({ id: c.id, body: c.body ?? "", author: c.user?.login ?? "" }));
  }

  async createComment(number: number, body: string): Promise<CommentInfo> {
    const { data } = await this.octokit.rest.issues.createComment({
      ...this.repo,
      issue_number: number,
      body,
    });
    return { id: data.id, body: data.body ?? "", author: data.user?.login ?? "" };
  }

  async updateComment(id: number, body: string): Promise<void> {
    await this.octokit.rest.issues.updateComment({ ...this.repo, comment_id: id, body });
  }

  async mergePullRequest(
    number: number,
    method: "merge" | "squash" | "rebase",
  ): Promise<{ sha: string }> {
    const { data } = await this.octokit.rest.pulls.merge({
      ...this.repo,
      pull_number: number,
      merge_method: method,
    });
    return { sha: data.sha };
  }

  async createDeployment(input: {
    environment: string;
    ref: string;
    version: string;
    description: string;
    production: boolean;
  }): Promise<DeploymentInfo> {
    const { data, status } = await this.octokit.rest.repos.createDeployment({
      ...this.repo,
      ref: input.ref,
      environment: input.environment,
      description: input.description,
      payload: { version: input.version },
      task: "deploy",
      // The workflow runs after the merge: its own checks must not hold the deployment back,
      // and GitHub must not merge the default branch into anything.
      required_contexts: [],
      auto_merge: false,
      production_environment: input.production,
    });
    if (status !== 201 || !("id" in data)) {
      throw new PinlineError(
        `GitHub did not create a deployment of ${input.ref} to ${input.environment}`,
      );
    }
    return {
      id: data.id,
      environment: data.environment ?? input.environment,
      sha: data.sha,
      ref: data.ref,
      version: input.version,
      createdAt: new Date(data.created_at),
    };
  }

  async createDeploymentStatus(
    deploymentId: number,
    input: {
      state: DeploymentStatusInfo["state"];
      description?: string | undefined;
      logUrl?: string | undefined;
      environmentUrl?: string | undefined;
    },
  ): Promise<void> {
    await this.octokit.rest.repos.createDeploymentStatus({
      ...this.repo,
      deployment_id: deploymentId,
      state: input.state,
      ...(input.description ? { description: input.description.slice(0, 140) } : {}),
      ...(input.logUrl ? { log_url: input.logUrl } : {}),
      ...(input.environmentUrl ? { environment_url: input.environmentUrl } : {}),
    });
  }

  async enableAutoMerge(
    pullRequest: PullRequestInfo,
    method: "MERGE" | "SQUASH" | "REBASE",
  ): Promise<void> {
    if (pullRequest.autoMerge) return;
    await this.octokit.graphql(
      `mutation($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {
        enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod }) {
          pullRequest { number }
        }
      }`,
      { pullRequestId: pullRequest.nodeId, mergeMethod: method },
    );
  }
}
