/**
 * The simulated repository's behaviour shared by the routes: who is who, what refs resolve to,
 * where a pull request's head is, and merging (used by the merge endpoint and by auto-merge).
 */
import { type GitIdentity, GitStore, ZERO_SHA } from "./git-store.js";
import {
  conflict,
  forbidden,
  type HttpError,
  notFound,
  notMergeable,
  unprocessable,
  validationFailed,
} from "./http.js";
import {
  emptyState,
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

  addAccount(login: string, type: UserType, permission: Permission): User {
    const id = this.nextId();
    const prefix = type === "Organization" ? "O" : type === "Bot" ? "BOT" : "U";
    const user: User = {
      login,
      id,
      nodeId: nodeId(prefix, id),
      type,
      permission,
      token: `ghs_sim${id}${Math.random().toString(36).slice(2, 12)}`,
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

  userByToken(token: string): User | undefined {
    for (const user of this.state.users.values()) {
      if (user.type !== "Organization" && user.token === token) return user;
    }
    return undefined;
  }

  hasPermission(user: User, needed: Permission): boolean {
    return PERMISSION_RANK[user.permission] >= PERMISSION_RANK[needed];
  }

  /** 403 unless the actor has at least `needed` on the repository. */
  requirePermission(user: User, needed: Permission): void {
    if (!this.hasPermission(user, needed)) throw forbidden();
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

  /** The git identity GitHub uses for a user's web commits. */
  identity(login: string, date: Date = this.clock()): GitIdentity {
    return { name: login, email: `${login}@users.noreply.github.com`, date };
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

  // --- refs -------------------------------------------------------------------------------

  branchSha(branch: string): string | undefined {
    return this.git.refTarget(`refs/heads/${branch}`);
  }

  /** A ref as the REST API takes one (branch, tag, sha, refs/...) resolved to a commit. */
  tryResolveRef(ref: string): string | undefined {
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

  /** A commit on a branch (created from the default branch when missing), moved with compare-and-swap. */
  commitToBranch(input: {
    branch: string;
    files: Record<string, Buffer | null>;
    message: string;
    author: GitIdentity;
    committer: GitIdentity;
    /** The branch's sha the change was based on; a moved branch is a 409. */
    expectedParent?: string;
  }): string {
    const current = this.branchSha(input.branch);
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
    if (!this.git.updateRef(`refs/heads/${input.branch}`, sha, current ?? ZERO_SHA)) {
      throw conflict(`${input.branch} has moved`);
    }
    this.refreshPulls();
    return sha;
  }

  // --- pull requests ----------------------------------------------------------------------

  findPull(number: number): PullRequest {
    const pull = this.state.pulls.find((candidate) => candidate.number === number);
    if (!pull) throw notFound();
    return this.refreshPull(pull);
  }

  /** An open pull request's head and base follow their branches; a closed one is frozen. */
  refreshPull(pull: PullRequest): PullRequest {
    if (pull.state !== "open") return pull;
    pull.headSha = this.branchSha(pull.head) ?? pull.headSha;
    pull.baseSha = this.branchSha(pull.base) ?? pull.baseSha;
    return pull;
  }

  /** refreshPull for all, reading every branch with one git call. */
  refreshPulls(): void {
    const open = this.state.pulls.filter((pull) => pull.state === "open");
    if (open.length === 0) return;
    const branches = new Map(
      this.git
        .listRefs("refs/heads/")
        .map(({ ref, sha }) => [ref.slice("refs/heads/".length), sha]),
    );
    for (const pull of open) {
      pull.headSha = branches.get(pull.head) ?? pull.headSha;
      pull.baseSha = branches.get(pull.base) ?? pull.baseSha;
    }
  }

  /** Whether git can merge head into base without conflicts (null once closed, as GitHub). */
  mergeable(pull: PullRequest): boolean | null {
    if (pull.state !== "open") return null;
    return !this.git.mergeTree(pull.baseSha, pull.headSha).conflicts;
  }

  /**
   * Merges a pull request with real git: squash (one commit on base with the merged tree),
   * merge (a two-parent merge commit) or rebase (each head commit replayed onto base).
   */
  mergePull(
    pull: PullRequest,
    input: {
      method: MergeMethod;
      actor: User;
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
    if (!this.git.updateRef(`refs/heads/${pull.base}`, sha, pull.baseSha)) {
      throw conflict("Base branch was modified. Review and try the merge again.");
    }
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
      const headline =
        title ?? `Merge pull request #${pull.number} from ${this.owner}/${pull.head}`;
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

  /** The open pull request for head → base, if any. */
  openPullFor(head: string, base: string): PullRequest | undefined {
    return this.state.pulls.find(
      (pull) => pull.state === "open" && pull.head === head && pull.base === base,
    );
  }

  duplicatePullError(head: string): HttpError {
    return validationFailed([
      {
        resource: "PullRequest",
        code: "custom",
        message: `A pull request already exists for ${this.owner}:${head}.`,
      },
    ]);
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
