/**
 * The real git CLI against the simulator's bare repository: workflow files at a commit, the
 * files a push or pull request changes (for `paths:` filters), and checkouts into a job's
 * workspace the way actions/checkout makes them.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ZERO_SHA = "0000000000000000000000000000000000000000";

let home: string | undefined;

/** Removes the git home this module made (a later git call makes another). */
export function removeGitHome(): void {
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
}

/** No system or global configuration; fetching any object by sha is allowed (see checkout). */
function gitEnv(): NodeJS.ProcessEnv {
  home ??= mkdtempSync(join(tmpdir(), "workflow-runner-git-home-"));
  return { ...GIT_ENV, HOME: home, XDG_CONFIG_HOME: home };
}

const GIT_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
  GIT_CONFIG_COUNT: "2",
  GIT_CONFIG_KEY_0: "uploadpack.allowAnySHA1InWant",
  GIT_CONFIG_VALUE_0: "true",
  GIT_CONFIG_KEY_1: "advice.detachedHead",
  GIT_CONFIG_VALUE_1: "false",
};

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function git(args: string[], options: { cwd?: string; allowFailure?: boolean } = {}) {
  const result = spawnSync("git", args, {
    cwd: options.cwd,
    env: gitEnv(),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  const out: GitResult = {
    code: result.status ?? -1,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
  };
  if (out.code !== 0 && !options.allowFailure) {
    throw new Error(`git ${args.join(" ")} failed (${out.code}): ${out.stderr.trim()}`);
  }
  return out;
}

export function resolve(bare: string, rev: string): string | undefined {
  const result = git(["--git-dir", bare, "rev-parse", "--verify", "--quiet", `${rev}^{commit}`], {
    allowFailure: true,
  });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** The top-level files of `.github/workflows` at a commit (GitHub reads no subfolders). */
export function workflowFiles(bare: string, sha: string): string[] {
  const result = git(["--git-dir", bare, "ls-tree", "--name-only", `${sha}:.github/workflows`], {
    allowFailure: true,
  });
  if (result.code !== 0) return [];
  return result.stdout
    .split("\n")
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => `.github/workflows/${name}`);
}

export function readFileAt(bare: string, sha: string, path: string): string | undefined {
  const result = git(["--git-dir", bare, "show", `${sha}:${path}`], { allowFailure: true });
  return result.code === 0 ? result.stdout : undefined;
}

export function mergeBase(bare: string, a: string, b: string): string | undefined {
  const result = git(["--git-dir", bare, "merge-base", a, b], { allowFailure: true });
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** Paths changed between two commits (two-dot), renames as both paths. */
export function changedPaths(bare: string, from: string | undefined, to: string): string[] {
  const args = from
    ? ["--git-dir", bare, "diff", "--name-only", "--no-renames", from, to]
    : ["--git-dir", bare, "show", "--name-only", "--no-renames", "--format=", to];
  return git(args).stdout.split("\n").filter(Boolean);
}

export interface CheckoutRequest {
  bare: string;
  dir: string;
  /** `with.ref`, else empty (then github.ref + github.sha, as the action does). */
  ref: string;
  githubRef: string;
  githubSha: string;
  fetchDepth: number;
}

/**
 * actions/checkout's steps with real git (its ref-helper): an empty `ref` input checks out
 * github.sha at github.ref; a 40-hex ref is a commit; `refs/heads/x`, `refs/pull/N/merge`,
 * `refs/tags/t` are qualified; a bare name is a branch if origin has it, else a tag.
 * fetch-depth 0 fetches every branch (as refs/remotes/origin/*) and tag; otherwise one commit,
 * shallow. The remote is the bare repository (file://), no credentials are persisted.
 */
export function checkout(request: CheckoutRequest): { sha: string; log: string } {
  const { bare, dir } = request;
  mkdirSync(dir, { recursive: true });
  const log: string[] = [];
  const run = (args: string[]) => {
    log.push(`git ${args.join(" ")}`);
    return git(args, { cwd: dir });
  };
  run(["init", "--quiet"]);
  run(["remote", "add", "origin", `file://${bare}`]);
  let ref = request.ref;
  let commit = "";
  if (!ref) {
    ref = request.githubRef;
    commit = request.githubSha;
  } else if (/^[0-9a-f]{40}$/i.test(ref)) {
    commit = ref;
    ref = "";
  }
  if (ref && !ref.startsWith("refs/")) {
    // An unqualified name: a branch on origin, else a tag (the action asks the remote).
    const heads = git(["ls-remote", `file://${bare}`, `refs/heads/${ref}`, `refs/tags/${ref}`], {
      cwd: dir,
    }).stdout;
    if (heads.includes(`refs/heads/${ref}`)) ref = `refs/heads/${ref}`;
    else if (heads.includes(`refs/tags/${ref}`)) ref = `refs/tags/${ref}`;
    else throw new Error(`A branch or tag with the name '${request.ref}' could not be found`);
  }
  const local = localRef(ref);
  const specific = commit ? (local ? `+${commit}:${local}` : commit) : undefined;
  if (request.fetchDepth <= 0) {
    run([
      "fetch",
      "--prune",
      "--no-recurse-submodules",
      "--quiet",
      "origin",
      "+refs/heads/*:refs/remotes/origin/*",
      "+refs/tags/*:refs/tags/*",
    ]);
    // The action re-fetches the commit when the ref moved since the event (testRef), and
    // fetches refs/pull/* explicitly; a no-op when the branch already points at the commit.
    if (specific) {
      run(["fetch", "--no-tags", "--quiet", "origin", specific]);
    } else if (ref.startsWith("refs/pull/")) {
      run(["fetch", "--no-tags", "--quiet", "origin", `+${ref}:${local}`]);
    }
  } else {
    const spec = specific ?? `+${ref}:${local}`;
    run([
      "fetch",
      "--no-tags",
      "--prune",
      "--no-recurse-submodules",
      "--quiet",
      `--depth=${request.fetchDepth}`,
      "origin",
      spec,
    ]);
  }
  if (ref.startsWith("refs/heads/")) {
    const branch = ref.slice("refs/heads/".length);
    run(["checkout", "--quiet", "--force", "-B", branch, `refs/remotes/origin/${branch}`]);
  } else if (ref.startsWith("refs/tags/")) {
    run(["checkout", "--quiet", "--force", ref]);
  } else if (local) {
    run(["checkout", "--quiet", "--force", "--detach", local]);
  } else {
    run(["checkout", "--quiet", "--force", "--detach", commit]);
  }
  const sha = git(["rev-parse", "HEAD"], { cwd: dir }).stdout.trim();
  return { sha, log: log.join("\n") };
}

/** Where the action keeps a fetched ref locally (its getRefSpec). */
function localRef(ref: string): string | undefined {
  if (!ref) return undefined;
  if (ref.startsWith("refs/heads/")) return `refs/remotes/origin/${ref.slice(11)}`;
  if (ref.startsWith("refs/pull/")) return `refs/remotes/pull/${ref.slice(10)}`;
  if (ref.startsWith("refs/tags/")) return ref;
  return ref;
}
