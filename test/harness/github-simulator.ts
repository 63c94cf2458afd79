/**
 * A GitHub simulator for tests: a real HTTP server speaking the REST v3 shapes (validated
 * against GitHub's OpenAPI description by its own tests) over a real bare git repository, so
 * production code runs unchanged with `new Octokit({ baseUrl: simulator.url, auth: token })`,
 * the way it runs against GitHub Enterprise Server. No module mocks.
 *
 * Supported: one repository (refs, contents, commits, pull requests — from its branches or
 * from forks —, reviews, comments, labels, check runs, statuses, deployments, rulesets, the
 * activity log), collaborator permissions, nested teams, GitHub Apps (JWTs, installation
 * tokens, a workflow's GITHUB_TOKEN) with their permissions enforced, the auto-merge GraphQL
 * mutations, Link pagination, rate-limit headers and fault injection. Requests may also carry
 * GHES's /api/v3 prefix (and GraphQL /api/graphql).
 *
 * Faithful where security depends on it: only Apps write check runs, and only the App that
 * made one changes it, never once completed; rulesets refuse merges and direct pushes;
 * installation tokens get exactly their permissions. The helpers (seed, commitFiles) model
 * whatever happened and are not subject to any rule.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  GITHUB_ACTIONS,
  looksLikeJwt,
  mintInstallationToken,
  verifyJwt,
  workflowPermissions,
} from "./github-simulator/apps.js";
import { notAccessibleByIntegration, SimulatorCore } from "./github-simulator/core.js";
import { type GitIdentity, ZERO_SHA } from "./github-simulator/git-store.js";
import { handleGraphql } from "./github-simulator/graphql.js";
import {
  errorBody,
  HttpError,
  isRecord,
  type Reply,
  type RequestContext,
  Router,
} from "./github-simulator/http.js";
import type {
  AppPermission,
  Credential,
  Permission,
  SimulatorState,
} from "./github-simulator/model.js";
import { APP_SCOPES } from "./github-simulator/permissions.js";
import { JWT_ROUTES, registerAppRoutes } from "./github-simulator/routes-apps.js";
import { registerCheckRoutes } from "./github-simulator/routes-checks.js";
import { registerDeploymentRoutes } from "./github-simulator/routes-deployments.js";
import { registerIssueRoutes } from "./github-simulator/routes-issues.js";
import { registerPullRoutes } from "./github-simulator/routes-pulls.js";
import { registerRepoRoutes } from "./github-simulator/routes-repo.js";
import { registerRuleRoutes } from "./github-simulator/routes-rules.js";
import { registerSettingsRoutes } from "./github-simulator/routes-settings.js";
import { buildRuleset, type RulesetInput } from "./github-simulator/rules.js";

export type {
  Activity,
  App,
  AppPermission,
  AutoMerge,
  CheckRun,
  CommitStatus,
  Deployment,
  DeploymentStatus,
  Fork,
  IssueComment,
  Label,
  Permission,
  PullRequest,
  Review,
  Ruleset,
  SimulatorState,
  Team,
  User,
} from "./github-simulator/model.js";
export type { RulesetInput } from "./github-simulator/rules.js";

/** What addApp gives a test: enough to sign JWTs and find the installation, as an App does. */
export interface SimulatorApp {
  id: number;
  slug: string;
  clientId: string;
  /** RSA private key (PKCS#1 PEM), for signing the App's JWTs. */
  privateKey: string;
  installationId: number;
  /** `${slug}[bot]`: who the App's actions are credited to. */
  botLogin: string;
}

export type AppPermissionLevels = Partial<Record<AppPermission, "read" | "write">>;

/** What pinline's own App is granted in tests: everything its gate, promotions and deploys write. */
export const PINLINE_APP_PERMISSIONS: AppPermissionLevels = {
  checks: "write",
  contents: "write",
  pull_requests: "write",
  issues: "write",
  deployments: "write",
  statuses: "write",
  members: "read",
};

export interface SimulatorOptions {
  /** Default "acme". */
  owner?: string;
  /** Default "cm-diagnostics-releases". */
  repo?: string;
  /** Default "main". */
  defaultBranch?: string;
}

export interface RecordedResponse {
  method: string;
  /** The OpenAPI path template that served it; the raw path when no route matched. */
  route: string;
  /** The request's path and query, as sent. */
  path: string;
  status: number;
  /** The JSON body sent (undefined for 204). */
  body: unknown;
}

export type FaultStatus = 500 | 502 | 503 | 403;

export interface GitHubSimulator {
  /** The base URL for Octokit (`baseUrl`), e.g. http://127.0.0.1:40123. */
  url: string;
  owner: string;
  repo: string;
  /** The real bare repository behind the simulated one. */
  bareRepo: string;
  defaultBranch: string;
  /**
   * Registers an account and returns its personal access token (send as "token X" or
   * "Bearer X"). A Bot here is a machine user: its token is still a personal one.
   */
  addUser(login: string, options?: { permission?: Permission; type?: "User" | "Bot" }): string;
  /**
   * A GitHub App installed on the repository with these permissions (metadata: read always).
   * Its bot `${slug}[bot]` has the repository role its permissions amount to (contents write:
   * write; administration write: admin; else read).
   */
  addApp(slug: string, options?: { permissions?: AppPermissionLevels }): SimulatorApp;
  /** An installation access token of the App (optionally with fewer permissions). */
  installationToken(slug: string, options?: { permissions?: AppPermissionLevels }): string;
  /**
   * A workflow's GITHUB_TOKEN: an installation token of GitHub Actions' App with exactly the
   * workflow's `permissions:` (dashed keys; id-token ignored); readOnly (fork pull requests)
   * makes every write a read.
   */
  actionsToken(options: {
    permissions: Record<string, "read" | "write" | "none">;
    readOnly?: boolean;
  }): string;
  /** A team; `parent` nests it under another team of the organisation. */
  addTeam(org: string, slug: string, members: string[], options?: { parent?: string }): void;
  /** A repository ruleset, in the REST API's shape; returns its id. */
  addRuleset(ruleset: RulesetInput): number;
  /** A fork of the repository owned by `owner` (a known account with read access at least). */
  addFork(owner: string): { owner: string; repo: string; fullName: string };
  /**
   * The test merge commit GitHub keeps at refs/pull/<n>/merge (head merged into base), made
   * once per base/head pair; null when they conflict.
   */
  pullMergeCommit(number: number): string | null;
  /** Where created things (PRs, reviews, check runs, statuses, deployments...) get their time. */
  setClock(now: () => Date): void;
  /** Commits a directory's files on the default branch (its first commit, or a snapshot on top). */
  seed(dir: string, message?: string): Promise<string>;
  /**
   * A commit on a branch (created from the default branch when missing); null deletes a file.
   * `pusher` (default: `author`) is the activity's actor, null when neither is given; `fork`
   * commits to that fork's branch instead (never in this repository's branches or activity).
   * Not subject to rulesets.
   */
  commitFiles(
    branch: string,
    files: Record<string, string | null>,
    options?: { message?: string; author?: string; date?: Date; pusher?: string; fork?: string },
  ): Promise<string>;
  /** A working clone of the repository (full history) in `dir`. */
  clone(dir: string): void;
  /** Every response served, in order. */
  requests: RecordedResponse[];
  /** The simulator's records, for assertions (read only by convention). */
  readonly state: SimulatorState;
  /**
   * Merges every open pull request with auto-merge enabled whose head commit has, for each
   * required check name, a newest check run completed with success, and which the base
   * branch's rulesets let the user who enabled auto-merge merge. Returns their numbers.
   */
  settleAutoMerge(requiredChecks?: string[]): Promise<number[]>;
  /**
   * The next `times` requests to a route ("GET /repos/{owner}/{repo}/pulls" or just the
   * template, any method) fail with `status`; 403 is a secondary rate limit (retry-after: 1).
   */
  failNext(route: string, times: number, status: FaultStatus): void;
  close(): Promise<void>;
}

const SEED_IDENTITY = { name: "GitHub Simulator", email: "simulator@example.com" };

interface Fault {
  method: string | undefined;
  route: string;
  remaining: number;
  status: FaultStatus;
}

export async function startGitHubSimulator(
  options: SimulatorOptions = {},
): Promise<GitHubSimulator> {
  const core = new SimulatorCore(
    options.owner ?? "acme",
    options.repo ?? "cm-diagnostics-releases",
    options.defaultBranch ?? "main",
  );
  const router = new Router();
  registerAppRoutes(router, core);
  registerRuleRoutes(router, core);
  registerSettingsRoutes(router, core);
  registerRepoRoutes(router, core);
  registerPullRoutes(router, core);
  registerIssueRoutes(router, core);
  registerCheckRoutes(router, core);
  registerDeploymentRoutes(router, core);
  router.add("POST", "/graphql", (request) => handleGraphql(core, request));

  const requests: RecordedResponse[] = [];
  const faults: Fault[] = [];
  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => {
        const served = serve(core, router, faults, req, raw);
        send(res, served.reply, served.resource, requests.length);
        requests.push({
          method: req.method ?? "GET",
          route: served.route,
          path: req.url ?? "/",
          status: served.reply.status,
          body: served.reply.body,
        });
      })
      .catch((error: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify(errorBody(String(error))));
      });
  });
  core.apiUrl = await listen(server);

  const appOf = (slug: string) => {
    const app = core.appBySlug(slug);
    if (!app) throw new Error(`no App "${slug}": addApp it first`);
    return app;
  };

  return {
    url: core.apiUrl,
    owner: core.owner,
    repo: core.repo,
    bareRepo: core.git.dir,
    defaultBranch: core.defaultBranch,
    requests,
    get state() {
      core.refreshPulls();
      core.settleStaleCheckRuns();
      return core.state;
    },
    addUser(login, userOptions = {}) {
      const existing = core.findUser(login);
      if (existing && existing.token === "") throw new Error(`${login} cannot hold a token`);
      const user = existing ?? core.addAccount(login, userOptions.type ?? "User", "write");
      user.permission = userOptions.permission ?? user.permission;
      return user.token;
    },
    addApp(slug, appOptions = {}) {
      const { app, keys } = core.addApp(slug, appOptions.permissions ?? {});
      return {
        id: app.id,
        slug: app.slug,
        clientId: app.clientId,
        get privateKey() {
          return keys.privateKey;
        },
        installationId: app.installationId,
        botLogin: app.botLogin,
      };
    },
    installationToken(slug, tokenOptions = {}) {
      const token = mintInstallationToken(appOf(slug), tokenOptions.permissions, undefined);
      core.state.installationTokens.push(token);
      return token.token;
    },
    actionsToken(tokenOptions) {
      const app = appOf(GITHUB_ACTIONS.slug);
      const token = mintInstallationToken(app, undefined, undefined);
      token.permissions = workflowPermissions(
        tokenOptions.permissions,
        tokenOptions.readOnly ?? false,
      );
      core.state.installationTokens.push(token);
      return token.token;
    },
    addTeam(org, slug, members, teamOptions = {}) {
      core.state.teams = core.state.teams.filter(
        (team) => !(team.org === org && team.slug === slug),
      );
      core.state.teams.push({
        id: core.nextId(),
        org,
        slug,
        members: new Set(members),
        ...(teamOptions.parent ? { parent: teamOptions.parent } : {}),
      });
    },
    addRuleset(ruleset) {
      const built = buildRuleset(core, ruleset, false);
      core.state.rulesets.push(built);
      return built.id;
    },
    addFork(owner) {
      const user = core.findUser(owner);
      if (!user || user.type === "Organization" || !core.hasPermission(user, "read")) {
        throw new Error(`${owner} cannot fork the repository: no such account with read access`);
      }
      const existing = core.findFork(owner);
      const id = existing?.id ?? core.nextId();
      if (!existing) {
        core.state.forks.push({
          id,
          nodeId: `R_kgDOfork${id}`,
          owner: user.login,
          repo: core.repo,
        });
      }
      return { owner: user.login, repo: core.repo, fullName: `${user.login}/${core.repo}` };
    },
    pullMergeCommit(number) {
      return core.pullMergeCommit(number);
    },
    setClock(now) {
      core.clock = now;
    },
    async seed(dir, message = "Initial commit") {
      const identity: GitIdentity = { ...SEED_IDENTITY, date: core.clock() };
      const parent = core.branchSha(core.defaultBranch);
      const sha = core.git.commitDirectory({
        dir,
        parent,
        message,
        author: identity,
        committer: identity,
      });
      const moved = core.moveRef({
        ref: `refs/heads/${core.defaultBranch}`,
        sha,
        expected: parent ?? ZERO_SHA,
        actor: null,
      });
      if (!moved) throw new Error(`${core.defaultBranch} moved while seeding`);
      return sha;
    },
    async commitFiles(branch, files, commitOptions = {}) {
      const date = commitOptions.date ?? core.clock();
      const identity = commitOptions.author
        ? core.identity(commitOptions.author, date)
        : { ...SEED_IDENTITY, date };
      const contents = Object.fromEntries(
        Object.entries(files).map(([path, text]) => [
          path,
          text === null ? null : Buffer.from(text),
        ]),
      );
      if (commitOptions.fork && !core.findFork(commitOptions.fork)) {
        throw new Error(`no fork of ${commitOptions.fork}: addFork it first`);
      }
      return core.commitToBranch({
        branch,
        files: contents,
        message: commitOptions.message ?? `Update ${Object.keys(files).join(", ")}`,
        author: identity,
        committer: identity,
        pusher: commitOptions.pusher ?? commitOptions.author ?? null,
        at: date,
        ...(commitOptions.fork ? { fork: commitOptions.fork } : {}),
      });
    },
    clone(dir) {
      core.git.clone(dir);
    },
    async settleAutoMerge(requiredChecks = []) {
      return settleAutoMerge(core, requiredChecks);
    },
    failNext(route, times, status) {
      const match = /^(GET|POST|PUT|PATCH|DELETE)\s+(\S+)$/i.exec(route.trim());
      faults.push({
        method: match?.[1]?.toUpperCase(),
        route: match?.[2] ?? route.trim(),
        remaining: times,
        status,
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      core.git.remove();
    },
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

interface Served {
  reply: Reply;
  route: string;
  /** The rate-limit bucket reported in x-ratelimit-resource. */
  resource: "core" | "graphql";
}

/**
 * One request, synchronously from routing to answer: handlers never await, so each request
 * sees and leaves the repository in a consistent state even when requests overlap.
 */
function serve(
  core: SimulatorCore,
  router: Router,
  faults: Fault[],
  req: IncomingMessage,
  raw: Buffer,
): Served {
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", core.apiUrl);
  // GHES serves REST under /api/v3 and GraphQL at /api/graphql.
  const path = url.pathname.replace(/^\/api\/v3(?=\/)/, "").replace(/^\/api\/graphql$/, "/graphql");
  const match = router.match(method, path);
  const route = match?.route ?? router.templateFor(path) ?? path;
  const resource = route === "/graphql" ? "graphql" : "core";
  const answer = (reply: Reply): Served => ({ reply, route, resource });
  try {
    const fault = takeFault(faults, method, route, path);
    if (fault) return answer(faultReply(fault));
    const auth = authenticate(core, req.headers.authorization);
    if (!match) return answer(errorReply(404, "Not Found"));
    const params = match.params;
    const operation = `${method} ${match.route}`;
    if (JWT_ROUTES.has(operation) !== (auth.kind === "app")) {
      // An App's JWT only finds installations and mints tokens; those need the JWT. (What
      // GitHub answers a JWT elsewhere is not documented: refused like a missing permission.)
      if (auth.kind === "app") throw notAccessibleByIntegration();
      throw new HttpError(401, errorBody("A JSON web token could not be decoded"));
    }
    if (params.owner !== undefined && params.repo !== undefined) {
      const same = (a: string | undefined, b: string) => a?.toLowerCase() === b.toLowerCase();
      // A private repository: invisible to strangers, to accounts without access and to
      // installation tokens narrowed to other repositories.
      const narrowed =
        auth.kind === "installation" &&
        auth.token.repositories !== undefined &&
        !auth.token.repositories.some((name) => same(name, core.repo));
      if (
        !same(params.owner, core.owner) ||
        !same(params.repo, core.repo) ||
        (auth.kind === "user" && auth.user.permission === "none") ||
        narrowed
      ) {
        return answer(errorReply(404, "Not Found"));
      }
    }
    const request: RequestContext = {
      method,
      route: match.route,
      params,
      query: url.searchParams,
      body: parseBody(raw),
      url: new URL(`${url.pathname}${url.search}`, core.apiUrl),
      actor: auth.user,
      auth,
    };
    if (auth.kind === "installation") {
      core.requireScope(request, ...(APP_SCOPES[operation] ?? ["(none)"]));
    }
    core.settleStaleCheckRuns();
    const reply = match.handler(request);
    core.refreshPulls();
    return answer(reply);
  } catch (error) {
    if (error instanceof HttpError) {
      return answer({ status: error.status, body: error.body, headers: error.headers });
    }
    // A simulator bug: surface it in the test output as well as in the 500.
    console.error("github-simulator:", error);
    return answer(errorReply(500, error instanceof Error ? error.message : String(error)));
  }
}

function errorReply(status: number, message: string): Reply {
  return { status, body: errorBody(message) };
}

/**
 * The credential of a request: a JWT (sent as "Bearer", verified against the App's key), or a
 * personal or installation access token ("token X" or "Bearer X"); an expired or revoked
 * installation token is "Bad credentials".
 */
function authenticate(core: SimulatorCore, header: string | undefined): Credential {
  if (!header) throw new HttpError(401, errorBody("Requires authentication"));
  const match = /^(token|bearer)\s+(\S+)$/i.exec(header.trim());
  const credential = match?.[2] ?? "";
  if (match?.[1]?.toLowerCase() === "bearer" && looksLikeJwt(credential)) {
    const app = verifyJwt(credential, (issuer) => core.appByIssuer(issuer));
    return { kind: "app", user: core.botOf(app), app };
  }
  const found = credential ? core.credentialForToken(credential) : undefined;
  if (!found) throw new HttpError(401, errorBody("Bad credentials"));
  return found;
}

/** JSON bodies; a bare array (add-labels takes one) is read as {labels: [...]}. */
function parseBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new HttpError(400, errorBody("Problems parsing JSON"));
  }
  if (Array.isArray(parsed)) return { labels: parsed };
  return isRecord(parsed) ? parsed : {};
}

function takeFault(
  faults: Fault[],
  method: string,
  route: string,
  path: string,
): Fault | undefined {
  const fault = faults.find(
    (candidate) =>
      candidate.remaining > 0 &&
      (candidate.method === undefined || candidate.method === method) &&
      (candidate.route === route || candidate.route === path),
  );
  if (fault) fault.remaining -= 1;
  return fault;
}

function faultReply(fault: Fault): Reply {
  if (fault.status === 403) {
    return {
      status: 403,
      headers: { "retry-after": "1" },
      body: {
        message:
          "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID SIM:0000.",
        documentation_url:
          "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
      },
    };
  }
  const messages = { 500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };
  return errorReply(fault.status, messages[fault.status]);
}

/** The answer with GitHub's headers, including those Octokit's throttling and retry read. */
function send(res: ServerResponse, reply: Reply, resource: string, served: number): void {
  const used = served + 1;
  res.statusCode = reply.status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("x-github-api-version-selected", "2022-11-28");
  res.setHeader("x-github-media-type", "github.v3; format=json");
  res.setHeader("x-github-request-id", `SIM:${used.toString(16).toUpperCase()}`);
  res.setHeader("x-ratelimit-limit", "5000");
  res.setHeader("x-ratelimit-remaining", String(Math.max(0, 5000 - used)));
  res.setHeader("x-ratelimit-used", String(used));
  // Real time, not the simulated clock: the throttling plugin compares it with Date.now().
  res.setHeader("x-ratelimit-reset", String(Math.floor(Date.now() / 1000) + 3600));
  res.setHeader("x-ratelimit-resource", resource);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  res.end(
    reply.status === 204 || reply.body === undefined ? undefined : JSON.stringify(reply.body),
  );
}

/**
 * What GitHub's auto-merge does once it may: merge as the user who enabled it, when the
 * legacy required checks pass and the base branch's rulesets let that user merge.
 */
async function settleAutoMerge(core: SimulatorCore, requiredChecks: string[]): Promise<number[]> {
  const merged: number[] = [];
  core.settleStaleCheckRuns();
  for (const pull of core.state.pulls) {
    core.refreshPull(pull);
    if (pull.state !== "open" || !pull.autoMerge) continue;
    const passed = requiredChecks.every((name) => {
      const latest = core.state.checkRuns
        .filter((run) => run.headSha === pull.headSha && run.name === name)
        .at(-1);
      return latest?.status === "completed" && latest.conclusion === "success";
    });
    if (!passed || core.mergeable(pull) === false) continue;
    const actor = core.account(pull.autoMerge.enabledBy);
    try {
      core.mergePull(pull, {
        method: pull.autoMerge.mergeMethod,
        actor,
        credential: core.credentialOf(actor),
        commitTitle: pull.autoMerge.commitTitle,
        commitMessage: pull.autoMerge.commitMessage || undefined,
      });
    } catch (error) {
      // Rules not met (405) or the base moved (409): auto-merge waits.
      if (error instanceof HttpError) continue;
      throw error;
    }
    merged.push(pull.number);
  }
  core.refreshPulls();
  return merged;
}
