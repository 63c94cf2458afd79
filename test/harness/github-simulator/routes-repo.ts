/**
 * Repository, git refs, contents and commits: thin REST faces over the bare repository.
 */
import { grants } from "./apps.js";
import type { SimulatorCore } from "./core.js";
import { ZERO_SHA } from "./git-store.js";
import {
  conflict,
  HttpError,
  listReply,
  notFound,
  optionalBoolean,
  optionalObject,
  optionalString,
  type Reply,
  type RequestContext,
  type Router,
  requiredString,
  unprocessable,
} from "./http.js";
import { commitJson, contentJson, gitCommitJson, refJson, repositoryJson } from "./json.js";
import { enforcePushRules } from "./rules.js";

export function registerRepoRoutes(router: Router, core: SimulatorCore): void {
  router.add("GET", "/repos/{owner}/{repo}", (request) => ({
    status: 200,
    body: repositoryJson(core, request.actor),
  }));
  registerRefRoutes(router, core);
  registerContentRoutes(router, core);
  registerCommitRoutes(router, core);
}

/** "heads/main" (the route's form) or "refs/heads/main" → "refs/heads/main". */
function fullRef(ref: string): string {
  return ref.startsWith("refs/") ? ref : `refs/${ref}`;
}

function registerRefRoutes(router: Router, core: SimulatorCore): void {
  router.add("GET", "/repos/{owner}/{repo}/git/ref/{ref}", (request) => {
    const ref = fullRef(request.params.ref ?? "");
    const sha = core.visibleRef(ref) ? core.git.refTarget(ref) : undefined;
    if (!sha || !ref.startsWith("refs/")) throw notFound();
    return { status: 200, body: refJson(core, ref, sha) };
  });

  router.add("POST", "/repos/{owner}/{repo}/git/refs", (request) => {
    core.requireRole(request, "write");
    const ref = requiredString(request.body, "ref");
    const sha = requiredString(request.body, "sha");
    if (!/^refs\/[^/]+\/.+/.test(ref)) {
      throw unprocessable("Reference name must start with 'refs/' and have at least two slashes.");
    }
    writableRef(core, ref);
    if (!/^[0-9a-f]{40}$/.test(sha) || !core.git.objectType(sha)) {
      throw unprocessable("Object does not exist");
    }
    if (core.git.refTarget(ref)) throw unprocessable("Reference already exists");
    enforcePushRules(core, request, { ref, before: ZERO_SHA, after: sha });
    if (!core.moveRef({ ref, sha, expected: ZERO_SHA, actor: request.actor.login })) {
      throw unprocessable("Reference already exists");
    }
    return { status: 201, body: refJson(core, ref, sha) };
  });

  router.add("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", (request) => {
    core.requireRole(request, "write");
    const ref = fullRef(request.params.ref ?? "");
    const sha = requiredString(request.body, "sha");
    const force = optionalBoolean(request.body, "force") ?? false;
    writableRef(core, ref);
    const current = core.git.refTarget(ref);
    if (!current) throw unprocessable("Reference does not exist");
    if (!/^[0-9a-f]{40}$/.test(sha) || !core.git.objectType(sha)) {
      throw unprocessable("Object does not exist");
    }
    if (!force && !core.git.isAncestor(current, sha)) {
      throw unprocessable("Update is not a fast forward");
    }
    if (current !== sha) {
      core.requireWorkflowsPermission(request.auth, current, sha);
      enforcePushRules(core, request, { ref, before: current, after: sha });
    }
    if (!core.moveRef({ ref, sha, expected: current, actor: request.actor.login })) {
      throw conflict("Reference cannot be updated");
    }
    return { status: 200, body: refJson(core, ref, sha) };
  });

  router.add("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", (request) => {
    core.requireRole(request, "write");
    const ref = fullRef(request.params.ref ?? "");
    writableRef(core, ref);
    const current = core.git.refTarget(ref);
    if (!current) throw unprocessable("Reference does not exist");
    // "an attempt was made to delete the default branch" is one of the endpoint's 422s.
    if (ref === `refs/heads/${core.defaultBranch}`) {
      throw unprocessable("Cannot delete the default branch");
    }
    enforcePushRules(core, request, { ref, before: current, after: ZERO_SHA });
    if (!core.moveRef({ ref, sha: ZERO_SHA, expected: current, actor: request.actor.login })) {
      throw unprocessable("Reference does not exist");
    }
    closePullsOfDeletedBranch(core, ref);
    return { status: 204 };
  });
}

/**
 * Refs a client may write: not the pull request refs GitHub maintains itself, nor (they are
 * not this repository's) the forks' branches the simulator keeps in the same store.
 */
function writableRef(core: SimulatorCore, ref: string): void {
  if (!core.visibleRef(ref)) throw unprocessable("Reference does not exist");
  if (ref.startsWith("refs/pull/")) throw unprocessable("Reference cannot be updated");
}

/** GitHub closes open pull requests whose head branch is deleted. */
function closePullsOfDeletedBranch(core: SimulatorCore, ref: string): void {
  if (!ref.startsWith("refs/heads/")) return;
  const branch = ref.slice("refs/heads/".length);
  const now = core.now();
  for (const pull of core.state.pulls) {
    if (pull.state === "open" && pull.head === branch) {
      Object.assign(pull, { state: "closed", closedAt: now, updatedAt: now, autoMerge: null });
    }
  }
}

/** GitHub's base64 of file contents: wrapped every 60 characters, with a final newline. */
function githubBase64(content: Buffer): string {
  const flat = content.toString("base64");
  return flat.length ? `${flat.match(/.{1,60}/g)?.join("\n")}\n` : "";
}

function registerContentRoutes(router: Router, core: SimulatorCore): void {
  router.add("GET", "/repos/{owner}/{repo}/contents/{path}", (request) => {
    const ref = request.query.get("ref") ?? core.defaultBranch;
    const commit = core.tryResolveRef(ref);
    if (!commit) throw notFound(`No commit found for the ref ${ref}`);
    const path = (request.params.path ?? "").replace(/^\/+|\/+$/g, "");
    const entry = core.git.entry(commit, path);
    if (!entry) throw notFound();
    if (entry.type === "tree") {
      const items = core.git.listDirectory(commit, path).map((child) => ({
        ...contentJson(
          core,
          {
            path: child.path,
            sha: child.sha,
            size: child.size,
            type: child.type === "tree" ? "dir" : "file",
          },
          ref,
        ),
        ...(child.type === "commit" ? { type: "submodule" } : {}),
        ...(child.mode === "120000" ? { type: "symlink" } : {}),
      }));
      return { status: 200, body: items };
    }
    if (entry.type !== "blob") throw notFound();
    const content = core.git.readBlob(entry.sha);
    return {
      status: 200,
      body: {
        ...contentJson(core, { path, sha: entry.sha, size: entry.size, type: "file" }, ref),
        content: githubBase64(content),
        encoding: "base64",
      },
    };
  });

  router.add("PUT", "/repos/{owner}/{repo}/contents/{path}", (request) =>
    putContents(core, request),
  );
}

/** Creates or replaces one file with a commit on the branch, checking the replaced blob's sha. */
function putContents(core: SimulatorCore, request: RequestContext): Reply {
  core.requireRole(request, "write");
  const path = (request.params.path ?? "").replace(/^\/+|\/+$/g, "");
  const message = requiredString(request.body, "message");
  const content = requiredString(request.body, "content");
  const branch = optionalString(request.body, "branch") ?? core.defaultBranch;
  const sha = optionalString(request.body, "sha");
  if (!/^[A-Za-z0-9+/=\s]*$/.test(content)) throw unprocessable("content is not valid Base64");
  // Workflow files are out of reach of Apps without Workflows write: the contents API answers
  // 404 (observed: octokit/octokit.rb#1184, integrations/terraform-provider-github#762).
  if (
    path.startsWith(".github/workflows/") &&
    request.auth.kind === "installation" &&
    !grants(request.auth.token.permissions, "workflows", "write")
  ) {
    throw notFound();
  }

  const current = core.branchSha(branch);
  // An empty repository accepts a first file on its default branch; any other branch must exist.
  if (!current && (branch !== core.defaultBranch || core.git.listRefs("refs/heads/").length > 0)) {
    throw notFound(`Branch ${branch} not found`);
  }
  const existing = current ? core.git.entry(current, path) : undefined;
  if (existing && existing.type !== "blob") throw unprocessable(`${path} is a directory`);
  if (existing && sha === undefined)
    throw unprocessable(`Invalid request.\n\n"sha" wasn't supplied.`);
  if (existing && sha !== existing.sha) throw conflict(`${path} does not match ${sha}`);

  const date = core.clock();
  const author =
    gitIdentity(request.body, "author", date) ?? core.identity(request.actor.login, date);
  const committer = gitIdentity(request.body, "committer", date) ?? author;
  const commitSha = core.commitToBranch({
    branch,
    files: { [path]: Buffer.from(content, "base64") },
    message,
    author,
    committer,
    pusher: request.actor.login,
    expectedParent: current,
    // The rules see the commit about to be pushed (a new commit: no checks have run on it).
    beforeMove: (before, after) =>
      enforcePushRules(core, request, { ref: `refs/heads/${branch}`, before, after }),
  });
  const blob = core.git.entry(commitSha, path);
  if (!blob) throw new HttpError(500, { message: "written file not found" });
  return {
    status: existing ? 200 : 201,
    body: {
      content: contentJson(core, { path, sha: blob.sha, size: blob.size, type: "file" }, branch),
      commit: gitCommitJson(core, core.git.readCommit(commitSha)),
    },
  };
}

/** An explicit {name, email} author/committer of PUT contents, when given. */
function gitIdentity(body: Record<string, unknown>, key: string, date: Date) {
  const value = optionalObject(body, key);
  if (!value) return undefined;
  const name = optionalString(value, "name");
  const email = optionalString(value, "email");
  if (!name || !email)
    throw unprocessable(`Invalid request.\n\n"name" and "email" are required for ${key}.`);
  return { name, email, date };
}

function registerCommitRoutes(router: Router, core: SimulatorCore): void {
  router.add("GET", "/repos/{owner}/{repo}/commits/{ref}", (request) => {
    const sha = core.resolveRef(request.params.ref ?? "");
    const commit = core.git.readCommit(sha);
    const parent = commit.parents[0] ?? core.git.emptyTree();
    return { status: 200, body: commitJson(core, commit, core.git.diff(parent, sha)) };
  });

  router.add("GET", "/repos/{owner}/{repo}/commits", (request) => {
    if (core.git.listRefs("refs/heads/").length === 0) throw conflict("Git Repository is empty.");
    const ref = request.query.get("sha") ?? core.defaultBranch;
    const tip = core.tryResolveRef(ref);
    if (!tip) throw notFound(`No commit found for SHA: ${ref}`);
    const path = request.query.get("path") ?? undefined;
    const author = request.query.get("author");
    let shas = core.git.revList(tip, path ? { path } : {});
    if (author) {
      // GitHub matches the author's login (via the commit email) or the email itself.
      shas = shas.filter((sha) => {
        const email = core.git.readCommit(sha).author.email;
        return (
          email === author || core.loginForEmail(email)?.toLowerCase() === author.toLowerCase()
        );
      });
    }
    return listReply(request, shas, (sha) => commitJson(core, core.git.readCommit(sha)));
  });
}
