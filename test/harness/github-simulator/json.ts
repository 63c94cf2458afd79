/**
 * The REST representations, built as api.github.com builds them: every field the OpenAPI
 * description marks required (the test validates each response against it), URLs under the
 * simulator's base URL for API links and under https://github.com for html links.
 */
import { GITHUB_ACTIONS, GITHUB_ORG } from "./apps.js";
import type { SimulatorCore } from "./core.js";
import type { CommitData, DiffEntry } from "./git-store.js";
import {
  type Activity,
  type App,
  type CheckRun,
  type CommitStatus,
  type Deployment,
  type DeploymentStatus,
  type Fork,
  type IssueComment,
  isoTime,
  type Label,
  nodeId,
  type PullRequest,
  type Review,
  type User,
} from "./model.js";

/** simple-user: what GitHub embeds wherever an account is mentioned. */
export function userJson(
  core: SimulatorCore,
  user: Pick<User, "login" | "id" | "nodeId" | "type">,
) {
  // Bot logins end in [bot]: GitHub percent-encodes them in URLs (dependabot%5Bbot%5D).
  const api = `${core.apiUrl}/users/${encodeURIComponent(user.login)}`;
  const html =
    user.type === "Bot"
      ? `https://github.com/apps/${user.login.replace(/\[bot\]$/, "")}`
      : `https://github.com/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: user.nodeId,
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: html,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    user_view_type: "public",
    site_admin: false,
  };
}

export function loginJson(core: SimulatorCore, login: string) {
  return userJson(core, core.account(login));
}

/**
 * The repository (or, given `fork`, a fork of it), with every field of full-repository (a
 * superset of the smaller shapes).
 */
export function repositoryJson(core: SimulatorCore, viewer?: User, fork?: Fork) {
  const ownerLogin = fork ? fork.owner : core.owner;
  const name = fork ? fork.repo : core.repo;
  const fullName = `${ownerLogin}/${name}`;
  const api = `${core.apiUrl}/repos/${fullName}`;
  const html = `https://github.com/${fullName}`;
  const owner = core.account(ownerLogin);
  const id = fork ? fork.id : core.repoId;
  const counts = core.state.pulls.filter((pull) => pull.state === "open").length;
  const repo: Record<string, unknown> = {
    id,
    node_id: nodeId("R", id),
    name,
    full_name: fullName,
    owner: userJson(core, owner),
    private: true,
    visibility: "private",
    html_url: html,
    description: null,
    fork: fork !== undefined,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://github.com/${fullName}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@github.com:${fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: core.defaultBranch,
    open_issues_count: counts,
    open_issues: counts,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    // Fixed times: reading the simulated clock here would move it on every render.
    pushed_at: core.repoCreatedAt,
    created_at: core.repoCreatedAt,
    updated_at: core.repoCreatedAt,
    allow_rebase_merge: true,
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_auto_merge: true,
    delete_branch_on_merge: false,
    allow_update_branch: false,
    allow_forking: false,
    web_commit_signoff_required: false,
    license: null,
    network_count: 0,
    subscribers_count: 0,
  };
  if (viewer) {
    repo.permissions = {
      admin: core.hasPermission(viewer, "admin"),
      maintain: core.hasPermission(viewer, "maintain"),
      push: core.hasPermission(viewer, "write"),
      triage: core.hasPermission(viewer, "triage"),
      pull: core.hasPermission(viewer, "read"),
    };
  }
  return repo;
}

export function refJson(core: SimulatorCore, ref: string, sha: string) {
  const type = core.git.objectType(sha) ?? "commit";
  return {
    ref,
    node_id: nodeId("REF", hashCode(ref)),
    url: `${core.apiRepoUrl}/git/${ref}`,
    object: { type, sha, url: `${core.apiRepoUrl}/git/${type}s/${sha}` },
  };
}

function hashCode(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return hash;
}

function gitUserJson(identity: CommitData["author"]) {
  return { name: identity.name, email: identity.email, date: isoTime(identity.date) };
}

/** The account GitHub links to a commit's author/committer (null when the email is unknown). */
function commitAccount(core: SimulatorCore, email: string) {
  const login = core.loginForEmail(email);
  return login ? loginJson(core, login) : null;
}

const UNSIGNED = {
  verified: false,
  reason: "unsigned",
  signature: null,
  payload: null,
  verified_at: null,
};

/** A commit as GET /commits/{ref} and the lists serve it; `files` only for the single commit. */
export function commitJson(core: SimulatorCore, commit: CommitData, files?: DiffEntry[]) {
  const api = core.apiRepoUrl;
  const json: Record<string, unknown> = {
    sha: commit.sha,
    node_id: nodeId("C", hashCode(commit.sha)),
    url: `${api}/commits/${commit.sha}`,
    html_url: `${core.htmlRepoUrl}/commit/${commit.sha}`,
    comments_url: `${api}/commits/${commit.sha}/comments`,
    commit: {
      url: `${api}/git/commits/${commit.sha}`,
      author: gitUserJson(commit.author),
      committer: gitUserJson(commit.committer),
      message: commit.message,
      tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
      comment_count: 0,
      verification: UNSIGNED,
    },
    author: commitAccount(core, commit.author.email),
    committer: commitAccount(core, commit.committer.email),
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${api}/commits/${sha}`,
      html_url: `${core.htmlRepoUrl}/commit/${sha}`,
    })),
  };
  if (files) {
    const additions = files.reduce((sum, file) => sum + file.additions, 0);
    const deletions = files.reduce((sum, file) => sum + file.deletions, 0);
    json.stats = { additions, deletions, total: additions + deletions };
    json.files = files.map((file) => diffEntryJson(core, commit.sha, file));
  }
  return json;
}

/** The commit part of PUT contents' answer (a git commit, not the REST commit). */
export function gitCommitJson(core: SimulatorCore, commit: CommitData) {
  const api = core.apiRepoUrl;
  return {
    sha: commit.sha,
    node_id: nodeId("C", hashCode(commit.sha)),
    url: `${api}/git/commits/${commit.sha}`,
    html_url: `${core.htmlRepoUrl}/commit/${commit.sha}`,
    author: gitUserJson(commit.author),
    committer: gitUserJson(commit.committer),
    message: commit.message,
    tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${api}/git/commits/${sha}`,
      html_url: `${core.htmlRepoUrl}/commit/${sha}`,
    })),
    verification: UNSIGNED,
  };
}

export function diffEntryJson(core: SimulatorCore, headSha: string, file: DiffEntry) {
  const path = encodeURI(file.path);
  const json: Record<string, unknown> = {
    sha: file.sha,
    filename: file.path,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${core.htmlRepoUrl}/blob/${headSha}/${path}`,
    raw_url: `${core.htmlRepoUrl}/raw/${headSha}/${path}`,
    contents_url: `${core.apiRepoUrl}/contents/${path}?ref=${headSha}`,
  };
  if (file.patch !== undefined) json.patch = file.patch;
  if (file.previousPath !== undefined) json.previous_filename = file.previousPath;
  return json;
}

/** A file or directory entry of the contents API. */
export function contentJson(
  core: SimulatorCore,
  entry: { path: string; sha: string; size: number; type: "file" | "dir" },
  ref: string,
) {
  const name = entry.path.split("/").pop() ?? entry.path;
  const path = encodeURI(entry.path);
  const self = `${core.apiRepoUrl}/contents/${path}?ref=${encodeURIComponent(ref)}`;
  const html = `${core.htmlRepoUrl}/${entry.type === "dir" ? "tree" : "blob"}/${encodeURIComponent(ref)}/${path}`;
  const git = `${core.apiRepoUrl}/git/${entry.type === "dir" ? "trees" : "blobs"}/${entry.sha}`;
  return {
    type: entry.type,
    name,
    path: entry.path,
    sha: entry.sha,
    size: entry.size,
    url: self,
    html_url: html,
    git_url: git,
    download_url:
      entry.type === "file"
        ? `https://raw.githubusercontent.com/${core.owner}/${core.repo}/${encodeURIComponent(ref)}/${path}`
        : null,
    _links: { self, git, html },
  };
}

export function labelJson(core: SimulatorCore, label: Label) {
  return {
    id: label.id,
    node_id: label.nodeId,
    url: `${core.apiRepoUrl}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    description: label.description,
    default: false,
  };
}

function pullLabels(core: SimulatorCore, pull: PullRequest, simple: boolean) {
  return pull.labels.flatMap((name) => {
    const label = core.findLabel(name);
    if (!label) return [];
    const json = labelJson(core, label);
    // pull-request-simple declares a label's description a (non-null) string.
    return [simple ? { ...json, description: json.description ?? "" } : json];
  });
}

/** A pull request's head or base: a branch of this repository, or of the fork `forkOwner`. */
function branchJson(core: SimulatorCore, branch: string, sha: string, forkOwner?: string | null) {
  const fork = forkOwner ? core.findFork(forkOwner) : undefined;
  const owner = fork ? fork.owner : core.owner;
  return {
    label: `${owner}:${branch}`,
    ref: branch,
    sha,
    user: loginJson(core, owner),
    repo: repositoryJson(core, undefined, fork),
  };
}

/**
 * A pull request. `full` adds what only GET/POST/PATCH of one pull request carry (mergeable,
 * counts, merged_by...); lists serve the "simple" shape.
 */
export function pullJson(core: SimulatorCore, pull: PullRequest, full: boolean) {
  const api = core.apiRepoUrl;
  const self = `${api}/pulls/${pull.number}`;
  const html = `${core.htmlRepoUrl}/pull/${pull.number}`;
  const issue = `${api}/issues/${pull.number}`;
  const json: Record<string, unknown> = {
    url: self,
    id: pull.id,
    node_id: pull.nodeId,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue,
    commits_url: `${self}/commits`,
    review_comments_url: `${self}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: loginJson(core, pull.author),
    body: pull.body,
    labels: pullLabels(core, pull, !full),
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: pull.mergedAt,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branchJson(core, pull.head, pull.headSha, pull.headOwner),
    base: branchJson(core, pull.base, pull.baseSha),
    _links: {
      self: { href: self },
      html: { href: html },
      issue: { href: issue },
      comments: { href: `${issue}/comments` },
      review_comments: { href: `${self}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${self}/commits` },
      statuses: { href: `${api}/statuses/${pull.headSha}` },
    },
    author_association: core.authorAssociation(pull.author),
    auto_merge: pull.autoMerge && {
      enabled_by: loginJson(core, pull.autoMerge.enabledBy),
      merge_method: pull.autoMerge.mergeMethod,
      commit_title: pull.autoMerge.commitTitle,
      commit_message: pull.autoMerge.commitMessage,
    },
    draft: pull.draft,
  };
  if (full) Object.assign(json, pullDetails(core, pull));
  return json;
}

/**
 * What only a single pull request carries. Its counts are the real totals, though the commit
 * and file lists stop at 250 and 3000 (the docs state those caps for the lists only).
 */
function pullDetails(core: SimulatorCore, pull: PullRequest) {
  const base = core.git.mergeBase(pull.baseSha, pull.headSha) ?? pull.baseSha;
  const files = core.git.diff(base, pull.headSha, { patches: false });
  const mergeable = core.mergeable(pull);
  return {
    merged: pull.merged,
    mergeable,
    rebaseable: mergeable,
    mergeable_state: pull.draft
      ? "draft"
      : mergeable === null
        ? "unknown"
        : mergeable
          ? "clean"
          : "dirty",
    merged_by: pull.mergedBy ? loginJson(core, pull.mergedBy) : null,
    comments: core.state.comments.filter((comment) => comment.issueNumber === pull.number).length,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: core.pullCommits(pull).length,
    additions: files.reduce((sum, file) => sum + file.additions, 0),
    deletions: files.reduce((sum, file) => sum + file.deletions, 0),
    changed_files: files.length,
  };
}

export function reviewJson(core: SimulatorCore, review: Review) {
  const pullUrl = `${core.apiRepoUrl}/pulls/${review.pullNumber}`;
  const html = `${core.htmlRepoUrl}/pull/${review.pullNumber}#pullrequestreview-${review.id}`;
  const json: Record<string, unknown> = {
    id: review.id,
    node_id: review.nodeId,
    user: loginJson(core, review.user),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: pullUrl,
    author_association: core.authorAssociation(review.user),
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
    commit_id: review.commitId,
  };
  if (review.submittedAt) json.submitted_at = review.submittedAt;
  return json;
}

export function commentJson(core: SimulatorCore, comment: IssueComment) {
  return {
    id: comment.id,
    node_id: comment.nodeId,
    url: `${core.apiRepoUrl}/issues/comments/${comment.id}`,
    html_url: `${core.htmlRepoUrl}/pull/${comment.issueNumber}#issuecomment-${comment.id}`,
    issue_url: `${core.apiRepoUrl}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: loginJson(core, comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    author_association: core.authorAssociation(comment.user),
  };
}

/** A GitHub App as `integration` (GET /app, a check run's `app`). */
export function appJson(core: SimulatorCore, app: App) {
  const actions = app.id === GITHUB_ACTIONS.appId;
  const owner = actions
    ? userJson(core, {
        login: GITHUB_ORG.login,
        id: GITHUB_ORG.id,
        nodeId: GITHUB_ORG.nodeId,
        type: "Organization",
      })
    : loginJson(core, app.owner);
  return {
    id: app.id,
    slug: app.slug,
    node_id: app.nodeId,
    client_id: app.clientId,
    owner,
    name: app.name,
    description: actions ? GITHUB_ACTIONS.description : null,
    external_url: actions ? GITHUB_ACTIONS.externalUrl : `https://github.com/apps/${app.slug}`,
    html_url: `https://github.com/apps/${app.slug}`,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    permissions: app.permissions,
    events: app.events,
  };
}

/** The App's installation on the repository's organisation (GET /repos/{owner}/{repo}/installation). */
export function installationJson(core: SimulatorCore, app: App) {
  const account = core.account(core.owner);
  return {
    id: app.installationId,
    account: userJson(core, account),
    repository_selection: "selected",
    access_tokens_url: `${core.apiUrl}/app/installations/${app.installationId}/access_tokens`,
    repositories_url: `${core.apiUrl}/installation/repositories`,
    html_url: `https://github.com/organizations/${core.owner}/settings/installations/${app.installationId}`,
    app_id: app.id,
    client_id: app.clientId,
    app_slug: app.slug,
    target_id: account.id,
    target_type: "Organization",
    permissions: app.permissions,
    events: app.events,
    created_at: app.createdAt,
    updated_at: app.createdAt,
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    suspended_by: null,
    suspended_at: null,
  };
}

export function checkRunJson(core: SimulatorCore, run: CheckRun) {
  const url = `${core.apiRepoUrl}/check-runs/${run.id}`;
  const html = `${core.htmlRepoUrl}/runs/${run.id}`;
  // "Pushes to a branch in a forked repository are not detected and return an empty
  // pull_requests array."
  const pulls = core.state.pulls.filter(
    (pull) =>
      pull.state === "open" &&
      pull.headOwner === null &&
      core.refreshPull(pull).headSha === run.headSha,
  );
  const repo = { id: core.repoId, url: core.apiRepoUrl, name: core.repo };
  const app = core.appById(run.appId);
  if (!app) throw new Error(`check run ${run.id} names no App`);
  return {
    id: run.id,
    node_id: run.nodeId,
    head_sha: run.headSha,
    external_id: run.externalId,
    url,
    html_url: html,
    details_url: run.detailsUrl ?? html,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      ...run.output,
      annotations_count: 0,
      annotations_url: `${url}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.checkSuiteId },
    app: appJson(core, app),
    pull_requests: pulls.map((pull) => ({
      id: pull.id,
      number: pull.number,
      url: `${core.apiRepoUrl}/pulls/${pull.number}`,
      head: { ref: pull.head, sha: pull.headSha, repo },
      base: { ref: pull.base, sha: pull.baseSha, repo },
    })),
  };
}

/** One entry of GET /repos/{owner}/{repo}/activity. */
export function activityJson(core: SimulatorCore, activity: Activity) {
  return {
    id: activity.id,
    node_id: activity.nodeId,
    before: activity.before,
    after: activity.after,
    ref: activity.ref,
    timestamp: activity.timestamp,
    activity_type: activity.activityType,
    actor: activity.actor === null ? null : loginJson(core, activity.actor),
  };
}

export function statusJson(core: SimulatorCore, status: CommitStatus) {
  return {
    url: `${core.apiRepoUrl}/statuses/${status.sha}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${core.account(status.creator).id}?v=4`,
    id: status.id,
    node_id: status.nodeId,
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.updatedAt,
    creator: loginJson(core, status.creator),
  };
}

export function deploymentJson(core: SimulatorCore, deployment: Deployment) {
  const url = `${core.apiRepoUrl}/deployments/${deployment.id}`;
  return {
    url,
    id: deployment.id,
    node_id: deployment.nodeId,
    sha: deployment.sha,
    ref: deployment.ref,
    task: deployment.task,
    payload: deployment.payload,
    original_environment: deployment.originalEnvironment,
    environment: deployment.environment,
    description: deployment.description,
    creator: loginJson(core, deployment.creator),
    created_at: deployment.createdAt,
    updated_at: deployment.updatedAt,
    statuses_url: `${url}/statuses`,
    repository_url: core.apiRepoUrl,
    transient_environment: deployment.transientEnvironment,
    production_environment: deployment.productionEnvironment,
    performed_via_github_app: null,
  };
}

export function deploymentStatusJson(core: SimulatorCore, status: DeploymentStatus) {
  const deploymentUrl = `${core.apiRepoUrl}/deployments/${status.deploymentId}`;
  return {
    url: `${deploymentUrl}/statuses/${status.id}`,
    id: status.id,
    node_id: status.nodeId,
    state: status.state,
    creator: loginJson(core, status.creator),
    description: status.description,
    environment: status.environment,
    // target_url is the deprecated name of log_url; GitHub sends "" for either when unset.
    target_url: status.logUrl,
    log_url: status.logUrl,
    environment_url: status.environmentUrl,
    created_at: status.createdAt,
    updated_at: status.updatedAt,
    deployment_url: deploymentUrl,
    repository_url: core.apiRepoUrl,
    performed_via_github_app: null,
  };
}
