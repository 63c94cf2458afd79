/**
 * The simulated repository's behaviour shared by the routes: who is who (users, Apps and their
 * tokens), what refs resolve to, where a pull request's head is (a branch here or in a fork),
 * every branch move and its activity record, and merging (by the merge endpoint and
 * auto-merge), with the repository's rulesets enforced.
 */
import { AppKeys, GITHUB_ACTIONS, GITHUB_ORG, grants, tokenUsable } from "./apps.js";
import { type GitIdentity, GitStore, ZERO_SHA } from "./git-store.js";
import {
  conflict,
  errorBody,
  forbidden,
  HttpError,
  notFound,
  notMergeable,
  type RequestContext,
  unprocessable,
  validationFailed,
} from "./http.js";
import {
  type AccessLevel,
  type ActivityType,
  type App,
  type AppPermissions,
  type CheckRun,
  type Credential,
  emptyState,
  type Fork,
  isoTime,
  type Label,
  type MergeMethod,
  nodeId,
  type Permission,
  type PullRequest,
  type SimulatorState,
  type User,
  type UserType,
} from "./model.js";
import { mergeViolations, ruleViolationError } from "./rules.js";

const PERMISSION_RANK: Record<Permission, number> = {
  none: 0,
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};

/** Who GitHub credits as committer of commits it makes itself (merges, web edits). */
export const WEB_FLOW = { login: "web-flow", name: "GitHub", email: "noreply@github.com" };

/** "Resource not accessible by integration": an installation token lacking a permission. */
export function notAccessibleByIntegration(): HttpError {
  return forbidden("Resource not accessible by integration");
}

const STALE_AFTER_MS = 14 * 24 * 3_600_000;

export class SimulatorCore {
  readonly state: SimulatorState = emptyState();
  readonly git: GitStore;
  /** The API base URL (set once the server listens). */
  apiUrl = "";
  clock: () => Date = () => new Date();
  /** Records and ids: one counter for every kind, so an id never names two things. */
  private lastId = 1000;
  private lastNumber = 0;
  private readonly createdAt: string;
  readonly repoId: number;
  private readonly appKeys = new Map<number, AppKeys>();
  /** refs/pull/<n>/head as last written, to write each move once. */
  private readonly pullHeads = new Map<number, string>();
  /** Test merge commits by "<base>:<head>" (null: they conflict). */
  private readonly mergeCommits = new Map<string, string | null>();
  /** Pushes to fork branches: never in this repository's activity, but the last pusher counts. */
  readonly forkPushes: { ref: string; after: string; actor: string | null }[] = [];

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly defaultBranch: string,
  ) {
    this.git = new GitStore(defaultBranch);
    this.createdAt = isoTime(new Date());
    // The organisation owning the repository, so its login resolves like any account.
    this.addAccount(owner, "Organization", "none");
    this.repoId = this.nextId();
    this.addGithubActionsApp();
  }

  get repoCreatedAt(): string {
    return this.createdAt;
  }

  get htmlRepoUrl(): string {
    return `https://github.com/${this.owner}/${this.repo}`;
  }

  get apiRepoUrl(): string {
    return `${this.apiUrl}/repos/${this.owner}/${this.repo}`;
  }

  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  /** Pull requests and issues share one sequence of numbers, as on GitHub. */
  nextNumber(): number {
    this.lastNumber += 1;
    return this.lastNumber;
  }

  now(): string {
    return isoTime(this.clock());
  }

  // --- accounts ---------------------------------------------------------------------------

  addAccount(login: string, type: UserType, permission: Permission, id = this.nextId()): User {
    const prefix = type === "Organization" ? "O" : type === "Bot" ? "BOT" : "U";
    const user: User = {
      login,
      id,
      nodeId: nodeId(prefix, id),
      type,
      permission,
      token:
        type === "Organization" ? "" : `ghp_sim${id}${Math.random().toString(36).slice(2, 12)}`,
    };
    this.state.users.set(login.toLowerCase(), user);
    return user;
  }

  findUser(login: string): User | undefined {
    return this.state.users.get(login.toLowerCase());
  }

  /** A known account, or one made up on the spot for logins seen only in git (web-flow). */
  account(login: string): User {
    return this.findUser(login) ?? this.addAccount(login, "User", "none");
  }

  /** The credential behind a token (personal access token or installation token). */
  credentialForToken(token: string): Credential | undefined {
    for (const user of this.state.users.values()) {
      if (user.token !== "" && user.token === token) return { kind: "user", user };
    }
    const installation = this.state.installationTokens.find((t) => t.token === token);
    if (!installation || !tokenUsable(installation)) return undefined;
    const app = this.appById(installation.appId);
    if (!app) return undefined;
    return { kind: "installation", user: this.botOf(app), app, token: installation };
  }

  /**
   * The credential a user acts with outside a request (auto-merge merging as the user who
   * enabled it): an App's bot acts as its installation, with the installation's permissions.
   */
  credentialOf(user: User): Credential {
    const app = user.appId === undefined ? undefined : this.appById(user.appId);
    if (!app) return { kind: "user", user };
    const token = {
      token: "",
      appId: app.id,
      permissions: app.permissions,
      expiresAt: Number.POSITIVE_INFINITY,
      revoked: false,
    };
    return { kind: "installation", user, app, token };
  }

  hasPermission(user: User, needed: Permission): boolean {
    return PERMISSION_RANK[user.permission] >= PERMISSION_RANK[needed];
  }

  /** 403 unless the actor has at least `needed` on the repository. */
  requirePermission(user: User, needed: Permission): void {
    if (!this.hasPermission(user, needed)) throw forbidden();
  }

  /**
   * A user's role check (personal access tokens). Installation tokens answer to their App
   * permissions instead, checked for every route before its handler runs.
   */
  requireRole(request: RequestContext, needed: Permission): void {
    if (request.auth.kind === "user") this.requirePermission(request.auth.user, needed);
  }

  /** For installation tokens: 403 unless one of `scopes` ("contents:write"...) is granted. */
  requireScope(request: RequestContext, ...scopes: string[]): void {
    if (request.auth.kind !== "installation") return;
    const permissions = request.auth.token.permissions;
    const granted = scopes.some((scope) => {
      const [name = "", level = "read"] = scope.split(":");
      return grants(permissions, name, level as AccessLevel);
    });
    if (!granted) throw notAccessibleByIntegration();
  }

  /**
   * An App (GITHUB_TOKEN included, which can never hold it) needs Workflows write to change
   * files under .github/workflows: "refusing to allow a GitHub App to create or update
   * workflow `<path>` without `workflows` permission" (observed on pushes and merges, e.g.
   * peter-evans/create-pull-request#1713, KeisukeYamashita/auto-pull-request-merge#481; the
   * REST status is not documented: 403 here, as for any missing permission).
   */
  requireWorkflowsPermission(credential: Credential, before: string, after: string): void {
    if (credential.kind !== "installation") return;
    if (grants(credential.token.permissions, "workflows", "write")) return;
    if (before === ZERO_SHA || after === ZERO_SHA) return;
    const changed = this.git.changedPaths(before, after, ".github/workflows");
    if (changed.length === 0) return;
    throw new HttpError(
      403,
      errorBody(
        `refusing to allow a GitHub App to create or update workflow \`${changed[0]}\` without \`workflows\` permission`,
      ),
    );
  }

  /** How GitHub describes a user's relation to the repository on their PRs, reviews, comments. */
  authorAssociation(login: string): string {
    const user = this.findUser(login);
    if (!user || user.type === "Bot") return "NONE";
    if (user.login.toLowerCase() === this.owner.toLowerCase()) return "OWNER";
    return this.hasPermission(user, "write")
      ? "MEMBER"
      : user.permission === "none"
        ? "NONE"
        : "COLLABORATOR";
  }

  /** The git identity GitHub uses for a user's web commits (their id+login noreply address). */
  identity(login: string, date: Date = this.clock()): GitIdentity {
    const user = this.findUser(login);
    const local = user ? `${user.id}+${user.login}` : login;
    return { name: login, email: `${local}@users.noreply.github.com`, date };
  }

  /** GitHub itself, as committer of the merges it makes. */
  githubIdentity(): GitIdentity {
    return { name: WEB_FLOW.name, email: WEB_FLOW.email, date: this.clock() };
  }

  /** The account behind a commit's email, as GitHub links `author`/`committer` on commits. */
  loginForEmail(email: string): string | undefined {
    if (email === WEB_FLOW.email) return WEB_FLOW.login;
    const match = /^(?:\d+\+)?(.+)@users\.noreply\.github\.com$/.exec(email);
    if (!match?.[1]) return undefined;
    return this.findUser(match[1])?.login;
  }

  // --- Apps -------------------------------------------------------------------------------

  private addGithubActionsApp(): void {
    const app: App = {
      id: GITHUB_ACTIONS.appId,
      slug: GITHUB_ACTIONS.slug,
      name: GITHUB_ACTIONS.name,
      nodeId: GITHUB_ACTIONS.nodeId,
      clientId: "Iv1.05c79e9ad1f6bdfa",
      owner: GITHUB_ORG.login,
      botLogin: GITHUB_ACTIONS.botLogin,
      installationId: this.nextId(),
      permissions: GITHUB_ACTIONS.permissions,
      events: GITHUB_ACTIONS.events,
      createdAt: GITHUB_ACTIONS.createdAt,
    };
    this.state.apps.push(app);
    this.appKeys.set(app.id, new AppKeys());
    if (!this.findUser(GITHUB_ORG.login)) {
      this.addAccount(GITHUB_ORG.login, "Organization", "none", GITHUB_ORG.id);
    }
    const bot = this.addAccount(
      app.botLogin,
      "Bot",
      this.roleFor(app.permissions),
      GITHUB_ACTIONS.botUserId,
    );
    bot.token = "";
    bot.appId = app.id;
  }

  /** A GitHub App owned by the repository's organisation, installed on the repository. */
  addApp(slug: string, permissions: AppPermissions): { app: App; keys: AppKeys } {
    if (this.state.apps.some((app) => app.slug === slug)) {
      throw new Error(`an App "${slug}" already exists`);
    }
    const id = this.nextId();
    const app: App = {
      id,
      slug,
      name: slug,
      nodeId: nodeId("A", id),
      clientId: `Iv23li${id.toString(16).padStart(14, "0")}`,
      owner: this.owner,
      botLogin: `${slug}[bot]`,
      installationId: this.nextId(),
      permissions: { ...permissions, metadata: "read" },
      events: [],
      createdAt: this.now(),
    };
    const keys = new AppKeys();
    this.state.apps.push(app);
    this.appKeys.set(id, keys);
    const bot = this.addAccount(app.botLogin, "Bot", this.roleFor(app.permissions));
    bot.token = "";
    bot.appId = id;
    return { app, keys };
  }

  /** The repository role an App's permissions amount to (for reviews, merges, pushes). */
  roleFor(permissions: AppPermissions): Permission {
    if (grants(permissions, "administration", "write")) return "admin";
    if (grants(permissions, "contents", "write")) return "write";
    return "read";
  }

  appById(id: number): App | undefined {
    return this.state.apps.find((app) => app.id === id);
  }

  appBySlug(slug: string): App | undefined {
    return this.state.apps.find((app) => app.slug === slug);
  }

  /** The App a JWT's issuer names (app id or client id) and its keys. */
  appByIssuer(issuer: string): { app: App; keys: AppKeys } | undefined {
    const app = this.state.apps.find(
      (candidate) => String(candidate.id) === issuer || candidate.clientId === issuer,
    );
    const keys = app && this.appKeys.get(app.id);
    return app && keys ? { app, keys } : undefined;
  }

  keysOf(app: App): AppKeys {
    const keys = this.appKeys.get(app.id);
    if (!keys) throw new Error(`no keys for App ${app.slug}`);
    return keys;
  }

  botOf(app: App): User {
    return this.account(app.botLogin);
  }

  // --- refs -------------------------------------------------------------------------------

  branchSha(branch: string): string | undefined {
    return this.git.refTarget(`refs/heads/${branch}`);
  }

  /** Where a fork's branch lives in the bare repository (never listed as this repository's). */
  forkRef(owner: string, branch: string): string {
    return `refs/forks/${owner.toLowerCase()}/heads/${branch}`;
  }

  findFork(owner: string): Fork | undefined {
    return this.state.forks.find((fork) => fork.owner.toLowerCase() === owner.toLowerCase());
  }

  /** Refs this repository's API shows: not the forks' branches kept in the same store. */
  visibleRef(ref: string): boolean {
    return !ref.startsWith("refs/forks/");
  }

  /** A ref as the REST API takes one (branch, tag, sha, refs/...) resolved to a commit. */
  tryResolveRef(ref: string): string | undefined {
    if (ref.startsWith("refs/") && !this.visibleRef(ref)) return undefined;
    const candidates = ref.startsWith("refs/")
      ? [ref]
      : [`refs/heads/${ref}`, `refs/tags/${ref}`, ...(/^[0-9a-f]{4,40}$/.test(ref) ? [ref] : [])];
    for (const candidate of candidates) {
      const sha = this.git.resolveCommit(candidate);
      if (sha) return sha;
    }
    return undefined;
  }

  /** Like tryResolveRef, answering an unknown ref with the 422 GET /commits/{ref} gives. */
  resolveRef(ref: string): string {
    const sha = this.tryResolveRef(ref);
    if (!sha) throw unprocessable(`No commit found for SHA: ${ref}`);
    return sha;
  }

  /**
   * Moves (or creates, or with ZERO_SHA deletes) a ref with compare-and-swap, and records the
   * activity of a branch of this repository. False when the ref was not at `expected`.
   */
  moveRef(input: {
    ref: string;
    sha: string;
    /** The current value; ZERO_SHA when the ref must not exist. */
    expected: string;
    actor: string | null;
    /** pr_merge for merges; otherwise derived (creation, deletion, push, force push). */
    type?: ActivityType;
    at?: Date;
  }): boolean {
    const moved =
      input.sha === ZERO_SHA
        ? this.git.refTarget(input.ref) === input.expected && this.git.deleteRef(input.ref)
        : this.git.updateRef(input.ref, input.sha, input.expected);
    if (!moved) return false;
    if (input.ref.startsWith("refs/heads/")) {
      this.recordActivity({ ...input, before: input.expected, after: input.sha });
    } else if (input.ref.startsWith("refs/forks/")) {
      this.forkPushes.push({ ref: input.ref, after: input.sha, actor: input.actor });
    }
    this.refreshPulls();
    return true;
  }

  private recordActivity(input: {
    ref: string;
    before: string;
    after: string;
    actor: string | null;
    type?: ActivityType;
    at?: Date;
  }): void {
    const type: ActivityType =
      input.type ??
      (input.before === ZERO_SHA
        ? "branch_creation"
        : input.after === ZERO_SHA
          ? "branch_deletion"
          : this.git.isAncestor(input.before, input.after)
            ? "push"
            : "force_push");
    const id = this.nextId();
    this.state.activities.push({
      id,
      nodeId: nodeId("RA", id),
      ref: input.ref,
      before: input.before,
      after: input.after,
      timestamp: isoTime(input.at ?? this.clock()),
      activityType: type,
      actor: input.actor,
    });
  }

  /**
   * A commit on a branch (created from the default branch when missing), moved with
   * compare-and-swap; `fork` puts it on that fork's branch instead.
   */
  commitToBranch(input: {
    branch: string;
    files: Record<string, Buffer | null>;
    message: string;
    author: GitIdentity;
    committer: GitIdentity;
    /** Who pushed it (the activity's actor). */
    pusher: string | null;
    /** The branch's sha the change was based on; a moved branch is a 409. */
    expectedParent?: string;
    fork?: string;
    /** When it was pushed (default: now). */
    at?: Date;
    /** Runs with the ref's old and new sha before the ref moves (throw to refuse). */
    beforeMove?: (before: string, after: string) => void;
  }): string {
    const ref = input.fork ? this.forkRef(input.fork, input.branch) : `refs/heads/${input.branch}`;
    const current = this.git.refTarget(ref);
    const parent = current ?? this.branchSha(this.defaultBranch);
    if (input.expectedParent !== undefined && input.expectedParent !== current) {
      throw conflict(`${input.branch} has moved`);
    }
    const sha = this.git.commitFiles({
      parent,
      files: input.files,
      message: input.message,
      author: input.author,
      committer: input.committer,
    });
    input.beforeMove?.(current ?? ZERO_SHA, sha);
    const moved = this.moveRef({
      ref,
      sha,
      expected: current ?? ZERO_SHA,
      actor: input.pusher,
      ...(input.at ? { at: input.at } : {}),
    });
    if (!moved) throw conflict(`${input.branch} has moved`);
    return sha;
  }

  // --- check runs -------------------------------------------------------------------------

  /**
   * "If a check run is in an incomplete state for more than 14 days, then the check run's
   * conclusion becomes stale" (docs.github.com/en/rest/guides/using-the-rest-api-to-interact-
   * with-checks): applied, by the simulated clock, before anything reads check runs.
   */
  settleStaleCheckRuns(): void {
    const now = this.clock().getTime();
    for (const run of this.state.checkRuns) {
      if (run.status === "completed") continue;
      const created = Date.parse(run.createdAt);
      if (now - created <= STALE_AFTER_MS) continue;
      run.status = "completed";
      run.conclusion = "stale";
      run.completedAt = isoTime(new Date(created + STALE_AFTER_MS));
    }
  }

  /** Every check run of a commit, oldest first (all Apps), staleness applied. */
  checkRunsOf(sha: string): CheckRun[] {
    this.settleStaleCheckRuns();
    return this.state.checkRuns.filter((run) => run.headSha === sha);
  }

  // --- pull requests ----------------------------------------------------------------------

  findPull(number: number): PullRequest {
    const pull = this.state.pulls.find((candidate) => candidate.number === number);
    if (!pull) throw notFound();
    return this.refreshPull(pull);
  }

  /** The ref holding a pull request's head branch (here or in its fork). */
  headRef(pull: Pick<PullRequest, "head" | "headOwner">): string {
    return pull.headOwner ? this.forkRef(pull.headOwner, pull.head) : `refs/heads/${pull.head}`;
  }

  /** An open pull request's head and base follow their branches; a closed one is frozen. */
  refreshPull(pull: PullRequest): PullRequest {
    if (pull.state === "open") {
      pull.headSha = this.git.refTarget(this.headRef(pull)) ?? pull.headSha;
      pull.baseSha = this.branchSha(pull.base) ?? pull.baseSha;
    }
    this.writePullHead(pull);
    return pull;
  }

  /** refreshPull for all, reading every branch with one git call. */
  refreshPulls(): void {
    const open = this.state.pulls.filter((pull) => pull.state === "open");
    if (open.length > 0) {
      const refs = new Map(
        [...this.git.listRefs("refs/heads/"), ...this.git.listRefs("refs/forks/")].map(
          ({ ref, sha }) => [ref, sha],
        ),
      );
      for (const pull of open) {
        pull.headSha = refs.get(this.headRef(pull)) ?? pull.headSha;
        pull.baseSha = refs.get(`refs/heads/${pull.base}`) ?? pull.baseSha;
      }
    }
    for (const pull of this.state.pulls) this.writePullHead(pull);
  }

  /** GitHub keeps refs/pull/<n>/head at every pull request's head commit. */
  private writePullHead(pull: PullRequest): void {
    if (this.pullHeads.get(pull.number) === pull.headSha) return;
    this.git.updateRef(`refs/pull/${pull.number}/head`, pull.headSha);
    this.pullHeads.set(pull.number, pull.headSha);
  }

  /**
   * The test merge commit GitHub keeps at refs/pull/<n>/merge (head merged into base), made
   * once per base/head pair; null when they conflict.
   */
  pullMergeCommit(number: number): string | null {
    const pull = this.findPull(number);
    const key = `${pull.baseSha}:${pull.headSha}`;
    let sha = this.mergeCommits.get(key);
    if (sha === undefined) {
      const merged = this.git.mergeTree(pull.baseSha, pull.headSha);
      sha = merged.conflicts
        ? null
        : this.git.commitTree({
            tree: merged.tree,
            parents: [pull.baseSha, pull.headSha],
            message: `Merge ${pull.headSha} into ${pull.baseSha}`,
            author: this.githubIdentity(),
            committer: this.githubIdentity(),
          });
      this.mergeCommits.set(key, sha);
    }
    const ref = `refs/pull/${pull.number}/merge`;
    if (sha) this.git.updateRef(ref, sha);
    else if (this.git.refTarget(ref)) this.git.deleteRef(ref);
    return sha;
  }

  /** Whether git can merge head into base without conflicts (null once closed, as GitHub). */
  mergeable(pull: PullRequest): boolean | null {
    if (pull.state !== "open") return null;
    return !this.git.mergeTree(pull.baseSha, pull.headSha).conflicts;
  }

  /** The commits of a pull request: reachable from its head, not from its base. */
  pullCommits(pull: PullRequest): string[] {
    const from = this.git.mergeBase(pull.baseSha, pull.headSha) ?? pull.baseSha;
    return this.git.revList(pull.headSha, { exclude: from });
  }

  /**
   * Merges a pull request with real git: squash (one commit on base with the merged tree),
   * merge (a two-parent merge commit) or rebase (each head commit replayed onto base). The
   * base branch's rulesets are enforced first (405 with their violations).
   */
  mergePull(
    pull: PullRequest,
    input: {
      method: MergeMethod;
      actor: User;
      /** The actor's credential, for ruleset bypass (an App's installation token). */
      credential?: Credential;
      commitTitle?: string;
      commitMessage?: string;
      expectedHeadSha?: string;
    },
  ): string {
    this.refreshPull(pull);
    if (pull.state !== "open") throw notMergeable("Pull Request is not mergeable");
    if (pull.draft) throw notMergeable("Pull Request is still a draft");
    if (input.expectedHeadSha && input.expectedHeadSha !== pull.headSha) {
      throw conflict("Head branch was modified. Review and try the merge again.");
    }
    const merged = this.git.mergeTree(pull.baseSha, pull.headSha);
    if (merged.conflicts) throw notMergeable("Pull Request is not mergeable");
    const credential = input.credential ?? { kind: "user", user: input.actor };
    const violations = mergeViolations(this, pull, credential, input.method);
    if (violations.length > 0) throw ruleViolationError(405, violations);
    const committer = this.githubIdentity();
    const author = this.identity(
      input.method === "merge" ? input.actor.login : pull.author,
      this.clock(),
    );
    let sha: string;
    if (input.method === "rebase") {
      sha = this.rebaseCommits(pull, committer);
    } else {
      const message = this.mergeMessage(pull, input.method, input.commitTitle, input.commitMessage);
      sha = this.git.commitTree({
        tree: merged.tree,
        parents: input.method === "merge" ? [pull.baseSha, pull.headSha] : [pull.baseSha],
        message,
        author,
        committer,
      });
    }
    this.requireWorkflowsPermission(credential, pull.baseSha, sha);
    const moved = this.moveRef({
      ref: `refs/heads/${pull.base}`,
      sha,
      expected: pull.baseSha,
      actor: input.actor.login,
      type: "pr_merge",
    });
    if (!moved) throw conflict("Base branch was modified. Review and try the merge again.");
    const now = this.now();
    Object.assign(pull, {
      state: "closed",
      merged: true,
      mergedAt: now,
      closedAt: now,
      updatedAt: now,
      mergedBy: input.actor.login,
      mergeCommitSha: sha,
      autoMerge: null,
    } satisfies Partial<PullRequest>);
    return sha;
  }

  /** GitHub's default messages: "Title (#N)" and the commits' messages for squash. */
  private mergeMessage(
    pull: PullRequest,
    method: "merge" | "squash",
    title: string | undefined,
    body: string | undefined,
  ): string {
    if (method === "merge") {
      const from = `${pull.headOwner ?? this.owner}/${pull.head}`;
      const headline = title ?? `Merge pull request #${pull.number} from ${from}`;
      return `${headline}\n\n${body ?? pull.title}`;
    }
    const commits = this.git.revList(pull.headSha, { exclude: pull.baseSha }).reverse();
    const defaultBody = commits
      .map((sha) => `* ${this.git.readCommit(sha).message.split("\n")[0]}`)
      .join("\n");
    const headline = title ?? `${pull.title} (#${pull.number})`;
    const text = body ?? defaultBody;
    return text ? `${headline}\n\n${text}` : headline;
  }

  /** Replays the head's commits onto base, each keeping its author and message. */
  private rebaseCommits(pull: PullRequest, committer: GitIdentity): string {
    const commits = this.git.revList(pull.headSha, { exclude: pull.baseSha }).reverse();
    let tip = pull.baseSha;
    for (const sha of commits) {
      const picked = this.git.cherryPickTree(sha, tip);
      if (picked.conflicts) throw notMergeable("This branch can't be rebased");
      const original = this.git.readCommit(sha);
      tip = this.git.commitTree({
        tree: picked.tree,
        parents: [tip],
        message: original.message,
        author: original.author,
        committer,
      });
    }
    return tip;
  }

  /** The open pull request for head (of `headOwner`'s fork, or this repository) → base. */
  openPullFor(
    head: string,
    base: string,
    headOwner: string | null = null,
  ): PullRequest | undefined {
    return this.state.pulls.find(
      (pull) =>
        pull.state === "open" &&
        pull.head === head &&
        pull.base === base &&
        (pull.headOwner ?? "").toLowerCase() === (headOwner ?? "").toLowerCase(),
    );
  }

  duplicatePullError(head: string, headOwner: string | null = null): HttpError {
    return validationFailed([
      {
        resource: "PullRequest",
        code: "custom",
        message: `A pull request already exists for ${headOwner ?? this.owner}:${head}.`,
      },
    ]);
  }

  /** Who last moved a pull request's head branch (the activity's actor; null when unknown). */
  lastPusher(pull: PullRequest): string | null {
    const ref = this.headRef(pull);
    if (pull.headOwner) {
      return this.forkPushes.filter((push) => push.ref === ref).at(-1)?.actor ?? null;
    }
    const moves = this.state.activities.filter(
      (activity) => activity.ref === ref && activity.activityType !== "branch_deletion",
    );
    return moves.at(-1)?.actor ?? null;
  }

  // --- teams ------------------------------------------------------------------------------

  /**
   * Whether `login` is in a team: "Team members will include the members of child teams"
   * (docs.github.com/en/rest/teams/members#list-team-members).
   */
  isTeamMember(org: string, slug: string, login: string, seen = new Set<string>()): boolean {
    const key = `${org.toLowerCase()}/${slug.toLowerCase()}`;
    if (seen.has(key)) return false;
    seen.add(key);
    const team = this.findTeam(org, slug);
    if (!team) return false;
    if ([...team.members].some((member) => member.toLowerCase() === login.toLowerCase())) {
      return true;
    }
    return this.state.teams
      .filter(
        (child) =>
          child.org.toLowerCase() === org.toLowerCase() &&
          child.parent?.toLowerCase() === slug.toLowerCase(),
      )
      .some((child) => this.isTeamMember(org, child.slug, login, seen));
  }

  findTeam(org: string, slug: string) {
    return this.state.teams.find(
      (team) =>
        team.org.toLowerCase() === org.toLowerCase() &&
        team.slug.toLowerCase() === slug.toLowerCase(),
    );
  }

  // --- labels -----------------------------------------------------------------------------

  findLabel(name: string): Label | undefined {
    return this.state.labels.find((label) => label.name.toLowerCase() === name.toLowerCase());
  }

  createLabel(name: string, color = "ededed", description: string | null = null): Label {
    if (this.findLabel(name)) {
      throw validationFailed([{ resource: "Label", code: "already_exists", field: "name" }]);
    }
    if (!/^[0-9a-fA-F]{6}$/.test(color)) {
      throw validationFailed([{ resource: "Label", code: "invalid", field: "color" }]);
    }
    const id = this.nextId();
    const label: Label = { id, nodeId: nodeId("LA", id), name, color, description };
    this.state.labels.push(label);
    return label;
  }

  /** A commit given by full sha for statuses/check runs; 422 when the repository lacks it. */
  requireCommit(sha: string, resource: string, field: string): string {
    const resolved = /^[0-9a-f]{40}$/.test(sha) ? this.git.resolveCommit(sha) : undefined;
    if (!resolved) {
      throw unprocessable(`No commit found for SHA: ${sha}`, [`${resource} ${field} is invalid`]);
    }
    return resolved;
  }
}
