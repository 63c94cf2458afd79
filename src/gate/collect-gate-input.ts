/**
 * Gathers the facts one pin change is judged on (GateInput) from the base branch's tree, its
 * git history and, when there is a forge, GitHub: deployments, reviews, permissions, team
 * membership and check runs. Lookups are cached per run, so a PR changing several pins asks
 * GitHub each question once.
 */

import { sameVersion } from "../core/gates/describe-change.js";
import type {
  ComplianceFacts,
  DeploymentRecord,
  GateInput,
  NamedPolicy,
  Permission,
  PinPeriod,
  ReleaseFacts,
  ReviewFacts,
  SignatureFacts,
} from "../core/gates/gate-input.js";
import { retriedVersions } from "../core/revert-hold.js";
import type { ApprovalPolicy, EnvironmentPin } from "../core/schema-types.js";
import { tryParseVersion } from "../core/version.js";
import type {
  CommitInfo,
  DeploymentInfo,
  Forge,
  PullRequestInfo,
  Pusher,
} from "../github/forge.js";
import { type Catalog, namedPolicies, releaseManifests, releaseOf } from "../repo/catalog.js";
import { RELEASE_FILE } from "../repo/layout.js";
import type { RepositoryTree } from "../repo/load-tree.js";
import { readPinHistory } from "../repo/read-pin-history.js";
import { lastCommitOf } from "./read-git.js";
import { readSignatureFacts } from "./read-signature-facts.js";

/** One environment's pin before and after the change. */
export interface PinChange {
  environment: string;
  file: string;
  /** The pin on the base branch; absent for a new environment. */
  before?: EnvironmentPin | undefined;
  after: EnvironmentPin;
}

/** The pin whose stage, channel and platform the rules judge with: the base branch's. */
function judgedPin(change: PinChange): EnvironmentPin {
  return change.before ?? change.after;
}

function memo<K, V>(load: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const cache = new Map<K, Promise<V>>();
  return (key) => {
    let value = cache.get(key);
    if (!value) {
      value = load(key);
      cache.set(key, value);
    }
    return value;
  };
}

export class GateFacts {
  private history: Promise<Map<string, PinPeriod[]>> | undefined;
  private readonly deploymentList: (environment: string) => Promise<DeploymentInfo[]>;
  private readonly statuses: (deploymentId: number) => Promise<DeploymentRecord["statuses"]>;
  private readonly permission: (user: string) => Promise<Permission>;
  private readonly membership: (key: string) => Promise<boolean>;
  private readonly signatures: (folder: string) => Promise<SignatureFacts>;
  private readonly compliance: (folder: string) => Promise<ComplianceFacts | undefined>;

  constructor(
    readonly tree: RepositoryTree,
    readonly catalog: Catalog,
    readonly now: Date,
    readonly forge?: Forge | undefined,
  ) {
    this.deploymentList = memo((environment) => this.requireForge().listDeployments(environment));
    this.statuses = memo((id) => this.requireForge().listDeploymentStatuses(id));
    this.permission = memo((user) => this.requireForge().getPermission(user));
    this.membership = memo((key) => {
      const [team = "", user = ""] = key.split("\n");
      return this.requireForge().isTeamMember(team, user);
    });
    // Signatures are checked against the real clock (a signature "from the future" is refused),
    // whatever instant the rules are judged at.
    this.signatures = memo((folder) =>
      readSignatureFacts({ root: this.tree.root, folder, now: new Date() }),
    );
    this.compliance = memo((folder) => this.readCompliance(folder));
  }

  private requireForge(): Forge {
    if (!this.forge) throw new Error("no forge: GitHub facts were requested offline");
    return this.forge;
  }

  /** Pin history of every environment of the base branch, read once. */
  pinHistory(): Promise<Map<string, PinPeriod[]>> {
    this.history ??= readPinHistory(
      this.tree.root,
      this.tree.environments.map((environment) => environment.name),
    );
    return this.history;
  }

  /**
   * The environment's deployments; statuses are read only for those of `version` (the others
   * only show that the environment reports deployments at all), so a long deployment history
   * costs one list, not one request per deployment.
   */
  private async readDeployments(environment: string, version: string): Promise<DeploymentRecord[]> {
    const records: DeploymentRecord[] = [];
    for (const deployment of await this.deploymentList(environment)) {
      if (deployment.version === undefined) continue;
      const wanted = sameVersion(deployment.version, version);
      records.push({
        environment,
        version: deployment.version,
        createdAt: deployment.createdAt,
        statuses: wanted ? await this.statuses(deployment.id) : [],
      });
    }
    return records;
  }

  private async readCompliance(folder: string): Promise<ComplianceFacts | undefined> {
    const commit = await lastCommitOf(this.tree.root, `${folder}/${RELEASE_FILE}`);
    if (!commit) return { commit: "(not committed)", runs: [] };
    const runs = await this.requireForge().listCheckRuns(commit);
    return { commit, runs };
  }

  /**
   * The head commit, read directly (a PR's commit list stops at 250 commits), and who pushed
   * it: GitHub's record of pushes to the head branch, never an event's sender. A head in a
   * fork, or a push GitHub has no record of, leaves the pusher unknown — then no approval
   * counts.
   */
  private async headFacts(
    pull: PullRequestInfo,
  ): Promise<{ commit: CommitInfo; pushers: string[]; pusherUnknown?: string }> {
    const forge = this.requireForge();
    const own = `${forge.repository.owner}/${forge.repository.repo}`.toLowerCase();
    const fork =
      pull.headRepository !== undefined && pull.headRepository.toLowerCase() !== own
        ? pull.headRepository
        : undefined;
    const [commit, pusher] = await Promise.all([
      forge.getCommit(pull.headSha),
      fork
        ? Promise.resolve<Pusher>({
            unknown: `its branch is in the fork ${fork}, whose pushes GitHub records there, not here`,
          })
        : forge.findPusher(pull.headRef, pull.headSha),
    ]);
    const pushers = [
      ...new Set(
        [
          "login" in pusher ? pusher.login : undefined,
          commit.authorLogin,
          commit.committerLogin,
        ].filter((login): login is string => Boolean(login)),
      ),
    ];
    return "unknown" in pusher
      ? { commit, pushers, pusherUnknown: pusher.unknown }
      : { commit, pushers };
  }

  private readonly headCache = new Map<string, ReturnType<GateFacts["headFacts"]>>();

  /** The head commit's facts, read once per pull request and head. */
  private heads(pull: PullRequestInfo): ReturnType<GateFacts["headFacts"]> {
    const key = `${pull.number}@${pull.headSha}`;
    let facts = this.headCache.get(key);
    if (!facts) {
      facts = this.headFacts(pull);
      this.headCache.set(key, facts);
    }
    return facts;
  }

  /** The versions the PR's head commit re-allows after a revert (`Pinline-Retry:`). */
  async retriedBy(pull: PullRequestInfo): Promise<string[]> {
    return retriedVersions((await this.heads(pull)).commit.message);
  }

  async reviewFacts(
    pull: PullRequestInfo,
    approvers: readonly (ApprovalPolicy | undefined)[],
  ): Promise<ReviewFacts> {
    const forge = this.requireForge();
    const [reviews, head] = await Promise.all([forge.listReviews(pull.number), this.heads(pull)]);
    const reviewers = [...new Set(reviews.map((review) => review.user))];
    const permissions: Record<string, Permission> = {};
    for (const user of reviewers) permissions[user] = await this.permission(user);
    const teams = new Set(
      approvers.flatMap((approval) => (approval?.approvers ?? []).filter((a) => a.startsWith("@"))),
    );
    const teamMembers: Record<string, string[]> = {};
    for (const team of teams) {
      teamMembers[team] = [];
      for (const user of reviewers) {
        if (await this.membership(`${team}\n${user}`)) teamMembers[team].push(user);
      }
    }
    return {
      pullRequest: pull.number,
      author: pull.author,
      headSha: pull.headSha,
      lastPushers: head.pushers,
      ...(head.pusherUnknown !== undefined ? { pusherUnknown: head.pusherUnknown } : {}),
      reviews,
      permissions,
      teamMembers,
    };
  }

  /** The environments whose history and deployments the rules may read. */
  private involvedEnvironments(change: PinChange, policies: readonly NamedPolicy[]): string[] {
    const names = new Set([change.environment]);
    for (const named of policies) {
      for (const name of named.policy.testing?.environments ?? []) names.add(name);
    }
    const stages = this.tree.rollout?.data?.stages ?? [];
    const index = stages.findIndex((stage) => stage.name === judgedPin(change).stage);
    const previous = index > 0 ? stages[index - 1] : undefined;
    for (const environment of this.tree.environments) {
      if (previous && environment.data?.stage === previous.name) names.add(environment.name);
    }
    return [...names];
  }

  /**
   * Everything the rules judge one pin change on. `retry`: versions the promotion re-allows
   * after a revert (from the PR's head commit, or `plan --retry`).
   */
  async collect(
    change: PinChange,
    pull?: PullRequestInfo,
    retry: readonly string[] = [],
  ): Promise<GateInput> {
    const policies: NamedPolicy[] = namedPolicies(this.catalog.policiesFor(change.environment));
    // A manifest carries every fact the rules read (version, minimumVersion, compatibility…).
    const releases: ReleaseFacts[] = releaseManifests(this.catalog);
    const release = releaseOf(this.catalog, change.after.version);
    const target = tryParseVersion(change.after.version);
    const entry = target ? this.catalog.releases.get(target.canonical) : undefined;
    const folder = entry ? `releases/${entry.folder.folder}` : undefined;
    const environmentsByStage: Record<string, string[]> = {};
    for (const environment of this.tree.environments) {
      const stage = environment.data?.stage;
      if (!stage) continue;
      const names = environmentsByStage[stage] ?? [];
      names.push(environment.name);
      environmentsByStage[stage] = names;
    }
    const involved = this.involvedEnvironments(change, policies);
    const allHistory = await this.pinHistory();
    const history: Record<string, PinPeriod[]> = {};
    for (const name of involved) {
      // An environment with no pin on the base branch has never run anything.
      history[name] = allHistory.get(name) ?? [];
    }
    const online = this.forge !== undefined;
    const deployments = online
      ? (
          await Promise.all(
            involved.map((name) => this.readDeployments(name, change.after.version)),
          )
        ).flat()
      : undefined;
    // The fields the rules judge with come from the base branch: a promotion may not move its
    // own environment to another stage, channel or platform to pass.
    const judged = judgedPin(change);
    const reviewed =
      online && pull
        ? await this.reviewFacts(
            pull,
            policies.map((p) => p.policy.approval),
          )
        : undefined;
    const retried = pull && online ? [...retry, ...(await this.retriedBy(pull))] : [...retry];
    return {
      now: this.now,
      environment: change.environment,
      stage: judged.stage,
      from: change.before?.version ?? change.after.version,
      to: change.after.version,
      newEnvironment: change.before === undefined,
      channel: judged.update?.channel,
      platform: judged.platform as Record<string, string> | undefined,
      release,
      releases,
      policies,
      stages: this.tree.rollout?.data?.stages ?? [],
      environmentsByStage,
      history,
      deployments,
      review: reviewed,
      signatures: folder ? await this.signatures(folder) : undefined,
      compliance: online && folder ? await this.compliance(folder) : undefined,
      retry: retried,
    };
  }
}
