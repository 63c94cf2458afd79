/**
 * The simulator's git data: a real bare repository on disk, changed only with git plumbing so
 * that shas, trees, merges and diffs are the ones git itself computes (never an imitation).
 *
 * Every git call gets an environment of its own: no system or global configuration (a
 * developer's signing or hooks settings must not leak in), identities and dates passed
 * explicitly so commits are reproducible under a fake clock.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ZERO_SHA = "0000000000000000000000000000000000000000";
/** For throwaway commits (git refuses the epoch itself as a date). */
const SCRATCH_DATE = new Date("2000-01-01T00:00:00Z");

export interface GitIdentity {
  name: string;
  email: string;
  date: Date;
}

export interface CommitData {
  sha: string;
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  message: string;
}

export interface TreeEntry {
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
  /** Bytes for blobs, 0 otherwise. */
  size: number;
  /** The full path inside the repository. */
  path: string;
}

export type DiffStatus = "added" | "removed" | "modified" | "renamed" | "copied" | "changed";

export interface DiffEntry {
  status: DiffStatus;
  path: string;
  previousPath?: string;
  /** The blob on the new side (the old side's for removed files). */
  sha: string;
  additions: number;
  deletions: number;
  /** The unified diff's hunks, as GitHub's `patch`; absent for binary files. */
  patch?: string;
  binary?: boolean;
}

export interface NewCommit {
  parent: string | undefined;
  /** Path → new content; null deletes the path. */
  files: Record<string, Buffer | null>;
  message: string;
  author: GitIdentity;
  committer: GitIdentity;
}

interface RunOptions {
  input?: string | Buffer;
  cwd?: string;
  env?: Record<string, string>;
  /** Exit codes that are answers rather than failures (merge-tree's 1 = conflicts). */
  okCodes?: number[];
}

interface RunResult {
  code: number;
  stdout: Buffer;
}

/** git's own date format: seconds since the epoch and a zone. */
function gitDate(date: Date): string {
  return `${Math.floor(date.getTime() / 1000)} +0000`;
}

function identityEnv(author: GitIdentity, committer: GitIdentity): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_AUTHOR_DATE: gitDate(author.date),
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
    GIT_COMMITTER_DATE: gitDate(committer.date),
  };
}

/** "Name <email> 1710496800 +0000" from a commit header. */
function parseIdentity(line: string): GitIdentity {
  const match = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/.exec(line);
  if (!match) throw new Error(`unparseable git identity: ${line}`);
  return {
    name: match[1] ?? "",
    email: match[2] ?? "",
    date: new Date(Number(match[3]) * 1000),
  };
}

const STATUS_LETTERS: Record<string, DiffStatus> = {
  A: "added",
  D: "removed",
  M: "modified",
  R: "renamed",
  C: "copied",
  T: "changed",
};

export class GitStore {
  /** The bare repository. */
  readonly dir: string;
  private readonly root: string;
  private readonly env: NodeJS.ProcessEnv;
  private scratch = 0;

  constructor(defaultBranch: string) {
    this.root = mkdtempSync(join(tmpdir(), "github-simulator-"));
    this.dir = join(this.root, "repo.git");
    const home = join(this.root, "home");
    mkdirSync(home);
    this.env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_TERMINAL_PROMPT: "0",
      LC_ALL: "C",
    };
    this.run(["init", "--quiet", "--bare", "-b", defaultBranch, this.dir], { bare: false });
  }

  /** Removes the repository and its scratch files. */
  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private run(args: string[], options: RunOptions & { bare?: boolean } = {}): RunResult {
    const config = [
      "-c",
      "user.name=GitHub Simulator",
      "-c",
      "user.email=simulator@users.noreply.github.com",
      "-c",
      "commit.gpgSign=false",
      "-c",
      "core.autocrlf=false",
    ];
    const location = options.bare === false ? [] : ["--git-dir", this.dir];
    const result = spawnSync("git", [...config, ...location, ...args], {
      env: { ...this.env, ...options.env },
      input: options.input,
      cwd: options.cwd,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (result.error) throw result.error;
    const code = result.status ?? -1;
    if (code !== 0 && !(options.okCodes ?? []).includes(code)) {
      throw new Error(`git ${args.join(" ")} failed (${code}): ${result.stderr.toString().trim()}`);
    }
    return { code, stdout: result.stdout };
  }

  private text(args: string[], options: RunOptions = {}): string {
    return this.run(args, options).stdout.toString("utf8").trim();
  }

  /** A commit's sha for a branch, tag, full ref or (possibly abbreviated) sha. */
  resolveCommit(rev: string): string | undefined {
    if (rev.startsWith("-")) return undefined;
    const result = this.run(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`], {
      okCodes: [1, 128],
    });
    return result.code === 0 ? result.stdout.toString().trim() : undefined;
  }

  /** What a full ref (refs/heads/x) points at, without peeling tags. */
  refTarget(ref: string): string | undefined {
    const result = this.run(["rev-parse", "--verify", "--quiet", ref], { okCodes: [1, 128] });
    return result.code === 0 ? result.stdout.toString().trim() : undefined;
  }

  objectType(sha: string): string | undefined {
    const result = this.run(["cat-file", "-t", sha], { okCodes: [1, 128] });
    return result.code === 0 ? result.stdout.toString().trim() : undefined;
  }

  listRefs(prefix: string): { ref: string; sha: string }[] {
    const out = this.text(["for-each-ref", "--format=%(refname) %(objectname)", prefix]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [ref = "", sha = ""] = line.split(" ");
        return { ref, sha };
      });
  }

  /**
   * Compare-and-swap of a ref: `expected` is its current value, ZERO_SHA when it must not exist,
   * undefined to move it unconditionally. False when the ref was not at `expected`.
   */
  updateRef(ref: string, sha: string, expected?: string): boolean {
    const args = ["update-ref", ref, sha, ...(expected === undefined ? [] : [expected])];
    return this.run(args, { okCodes: [1, 128] }).code === 0;
  }

  deleteRef(ref: string): boolean {
    return this.run(["update-ref", "-d", ref], { okCodes: [1, 128] }).code === 0;
  }

  writeBlob(content: Buffer): string {
    return this.text(["hash-object", "-w", "--stdin"], { input: content });
  }

  readBlob(sha: string): Buffer {
    return this.run(["cat-file", "blob", sha]).stdout;
  }

  /** The entry at `path` in a commit's tree ("" is the root tree). */
  entry(commit: string, path: string): TreeEntry | undefined {
    if (path === "") {
      const tree = this.readCommit(commit).tree;
      return { mode: "040000", type: "tree", sha: tree, size: 0, path: "" };
    }
    const out = this.run(["ls-tree", "-z", "--long", "--full-tree", commit, "--", path]).stdout;
    return parseTree(out.toString("utf8")).find((entry) => entry.path === path);
  }

  /** The entries directly inside a directory of a commit's tree. */
  listDirectory(commit: string, path: string): TreeEntry[] {
    const spec = path === "" ? [] : ["--", `${path}/`];
    const out = this.run(["ls-tree", "-z", "--long", "--full-tree", commit, ...spec]).stdout;
    return parseTree(out.toString("utf8"));
  }

  readCommit(sha: string): CommitData {
    const raw = this.run(["cat-file", "commit", sha]).stdout.toString("utf8");
    const split = raw.indexOf("\n\n");
    const headers = (split < 0 ? raw : raw.slice(0, split)).split("\n");
    const message = split < 0 ? "" : raw.slice(split + 2);
    const commit: CommitData = {
      sha,
      tree: "",
      parents: [],
      author: { name: "", email: "", date: new Date(0) },
      committer: { name: "", email: "", date: new Date(0) },
      message: message.replace(/\n$/, ""),
    };
    for (const header of headers) {
      // Continuation lines (a gpgsig's body) start with a space and are not needed here.
      const space = header.indexOf(" ");
      const key = header.slice(0, space);
      const value = header.slice(space + 1);
      if (key === "tree") commit.tree = value;
      else if (key === "parent") commit.parents.push(value);
      else if (key === "author") commit.author = parseIdentity(value);
      else if (key === "committer") commit.committer = parseIdentity(value);
    }
    return commit;
  }

  commitTree(input: {
    tree: string;
    parents: string[];
    message: string;
    author: GitIdentity;
    committer: GitIdentity;
  }): string {
    const parents = input.parents.flatMap((parent) => ["-p", parent]);
    return this.text(["commit-tree", input.tree, ...parents], {
      input: input.message,
      env: identityEnv(input.author, input.committer),
    });
  }

  /**
   * A commit that changes some files of its parent: the parent's tree is read into a temporary
   * index, the paths are updated there, and the index is written as the new tree, as a push of
   * that commit would have produced.
   */
  commitFiles(change: NewCommit): string {
    const index = this.scratchFile("index");
    const env = { GIT_INDEX_FILE: index };
    try {
      if (change.parent) this.run(["read-tree", change.parent], { env });
      else this.run(["read-tree", "--empty"], { env });
      const lines: string[] = [];
      for (const [path, content] of Object.entries(change.files)) {
        if (content === null) lines.push(`0 ${ZERO_SHA}\t${path}`);
        else lines.push(`100644 ${this.writeBlob(content)}\t${path}`);
      }
      // --index-info takes "mode sha\tpath"; mode 0 removes the path.
      this.run(["update-index", "--index-info"], { env, input: `${lines.join("\n")}\n` });
      const tree = this.text(["write-tree"], { env });
      return this.commitTree({
        tree,
        parents: change.parent ? [change.parent] : [],
        message: change.message,
        author: change.author,
        committer: change.committer,
      });
    } finally {
      rmSync(index, { force: true });
    }
  }

  /** A commit whose tree is a directory's files (respecting its .gitignore). */
  commitDirectory(input: {
    dir: string;
    parent: string | undefined;
    message: string;
    author: GitIdentity;
    committer: GitIdentity;
  }): string {
    const index = this.scratchFile("index");
    const env = { GIT_INDEX_FILE: index };
    try {
      this.run(["--work-tree", input.dir, "add", "--all", "."], { env, cwd: input.dir });
      const tree = this.text(["write-tree"], { env });
      return this.commitTree({
        tree,
        parents: input.parent ? [input.parent] : [],
        message: input.message,
        author: input.author,
        committer: input.committer,
      });
    } finally {
      rmSync(index, { force: true });
    }
  }

  /** Commits reachable from `tip` and not from `exclude`, newest first, optionally touching `path`. */
  revList(tip: string, options: { exclude?: string; path?: string } = {}): string[] {
    const args = ["rev-list", tip];
    if (options.exclude) args.push(`^${options.exclude}`);
    if (options.path) args.push("--", options.path);
    return this.text(args).split("\n").filter(Boolean);
  }

  mergeBase(a: string, b: string): string | undefined {
    const result = this.run(["merge-base", a, b], { okCodes: [1] });
    return result.code === 0 ? result.stdout.toString().trim() : undefined;
  }

  isAncestor(ancestor: string, descendant: string): boolean {
    return (
      this.run(["merge-base", "--is-ancestor", ancestor, descendant], { okCodes: [1] }).code === 0
    );
  }

  /** The tree of merging two commits (git's real merge), or conflicts: true. */
  mergeTree(
    ours: string,
    theirs: string,
  ): { tree: string; conflicts: false } | { conflicts: true } {
    const result = this.run(["merge-tree", "--write-tree", "--no-messages", ours, theirs], {
      okCodes: [1],
    });
    if (result.code === 1) return { conflicts: true };
    const tree = result.stdout.toString().split("\n")[0]?.trim() ?? "";
    return { tree, conflicts: false };
  }

  /**
   * The tree of applying `commit`'s change onto `onto` (a cherry-pick). git 2.39's merge-tree
   * has no --merge-base, so the merge base is forced with throwaway commits: a root commit of
   * the parent's tree, and children of it holding the two sides' trees.
   */
  cherryPickTree(
    commit: string,
    onto: string,
  ): { tree: string; conflicts: false } | { conflicts: true } {
    const picked = this.readCommit(commit);
    const parentTree = picked.parents[0]
      ? this.readCommit(picked.parents[0]).tree
      : this.emptyTree();
    const identity = { name: "merge-base", email: "merge-base@localhost", date: SCRATCH_DATE };
    const make = (tree: string, parents: string[]) =>
      this.commitTree({ tree, parents, message: "scratch", author: identity, committer: identity });
    const base = make(parentTree, []);
    const ours = make(this.readCommit(onto).tree, [base]);
    const theirs = make(picked.tree, [base]);
    return this.mergeTree(ours, theirs);
  }

  emptyTree(): string {
    return this.text(["hash-object", "-t", "tree", "-w", "--stdin"], { input: "" });
  }

  /** What changed from `base` to `head`, per file, with line counts and (unless told) patches. */
  diff(base: string, head: string, options: { patches?: boolean } = {}): DiffEntry[] {
    const raw = this.run(["diff", "--raw", "-z", "-M", "--no-abbrev", base, head]).stdout;
    const numstat = this.run(["diff", "--numstat", "-z", "-M", base, head]).stdout;
    const counts = parseNumstat(numstat.toString("utf8"));
    return parseRaw(raw.toString("utf8")).map((entry) => {
      const count = counts.get(entry.path) ?? { additions: 0, deletions: 0, binary: false };
      const result: DiffEntry = {
        status: entry.status,
        path: entry.path,
        sha: entry.status === "removed" ? entry.oldSha : entry.newSha,
        additions: count.additions,
        deletions: count.deletions,
      };
      if (entry.previousPath !== undefined) result.previousPath = entry.previousPath;
      if (count.binary) result.binary = true;
      if (!count.binary && options.patches !== false)
        result.patch = this.patchOf(base, head, result);
      return result;
    });
  }

  /** The paths under `prefix` that differ between two commits. */
  changedPaths(base: string, head: string, prefix: string): string[] {
    const out = this.run(["diff", "--name-only", "-z", "--no-renames", base, head, "--", prefix]);
    return out.stdout.toString("utf8").split("\0").filter(Boolean);
  }

  /** A file's patch in a diff (undefined for binary files), for diffs listed without them. */
  patchOf(base: string, head: string, entry: DiffEntry): string | undefined {
    if (entry.binary) return undefined;
    const paths = entry.previousPath ? [entry.previousPath, entry.path] : [entry.path];
    return this.patch(base, head, paths);
  }

  /**
   * The patches of several files of one diff with a single git call (a page of a PR's files),
   * by path; a file whose section cannot be told apart falls back to its own call.
   */
  patchesOf(base: string, head: string, entries: readonly DiffEntry[]): Map<string, string> {
    const text = entries.filter((entry) => !entry.binary);
    const paths = text.flatMap((e) => (e.previousPath ? [e.previousPath, e.path] : [e.path]));
    const found = new Map<string, string>();
    if (paths.length === 0) return found;
    const out = this.run([
      "-c",
      "core.quotePath=false",
      "diff",
      "-M",
      base,
      head,
      "--",
      ...paths,
    ]).stdout.toString("utf8");
    for (const section of out.split(/^(?=diff --git )/m)) {
      const target = /^\+\+\+ (?:b\/(.*)|\/dev\/null)$/m.exec(section);
      const source = /^--- a\/(.*)$/m.exec(section);
      const path = target?.[1] ?? source?.[1];
      const start = section.indexOf("@@");
      if (path !== undefined)
        found.set(path, start < 0 ? "" : section.slice(start).replace(/\n$/, ""));
    }
    for (const entry of text) {
      if (!found.has(entry.path)) found.set(entry.path, this.patchOf(base, head, entry) ?? "");
    }
    return found;
  }

  private patch(base: string, head: string, paths: string[]): string {
    const out = this.run(["diff", "-M", base, head, "--", ...paths]).stdout.toString("utf8");
    const start = out.indexOf("@@");
    // GitHub's `patch` is the hunks only, without the diff --git / index / ---/+++ header.
    return start < 0 ? "" : out.slice(start).replace(/\n$/, "");
  }

  /** A non-bare clone with the full history. */
  clone(target: string): void {
    this.run(["clone", "--quiet", "--no-local", this.dir, target], { bare: false });
  }

  private scratchFile(name: string): string {
    this.scratch += 1;
    return join(this.root, `${name}-${this.scratch}`);
  }
}

/** `ls-tree -z --long` output: "mode type sha size\tpath\0". */
function parseTree(out: string): TreeEntry[] {
  return out
    .split("\0")
    .filter(Boolean)
    .map((record) => {
      const tab = record.indexOf("\t");
      const [mode = "", type = "", sha = "", size = ""] = record.slice(0, tab).trim().split(/\s+/);
      return {
        mode,
        type: type as TreeEntry["type"],
        sha,
        size: size === "-" ? 0 : Number(size),
        path: record.slice(tab + 1),
      };
    });
}

interface RawEntry {
  status: DiffStatus;
  path: string;
  previousPath?: string;
  oldSha: string;
  newSha: string;
}

/** `diff --raw -z`: ":old new oldsha newsha STATUS\0path\0" (two paths for renames/copies). */
function parseRaw(out: string): RawEntry[] {
  const fields = out.split("\0");
  const entries: RawEntry[] = [];
  for (let i = 0; i < fields.length; i++) {
    const meta = fields[i];
    if (!meta?.startsWith(":")) continue;
    const [, , oldSha = "", newSha = "", code = ""] = meta.slice(1).split(" ");
    const status = STATUS_LETTERS[code.charAt(0)] ?? "modified";
    if (status === "renamed" || status === "copied") {
      const previousPath = fields[++i] ?? "";
      const path = fields[++i] ?? "";
      entries.push({ status, path, previousPath, oldSha, newSha });
    } else {
      entries.push({ status, path: fields[++i] ?? "", oldSha, newSha });
    }
  }
  return entries;
}

/** `diff --numstat -z`: "add\tdel\tpath\0", or "add\tdel\t\0old\0new\0" for renames. */
function parseNumstat(
  out: string,
): Map<string, { additions: number; deletions: number; binary: boolean }> {
  const counts = new Map<string, { additions: number; deletions: number; binary: boolean }>();
  const fields = out.split("\0");
  for (let i = 0; i < fields.length; i++) {
    const record = fields[i];
    if (!record) continue;
    const [added = "", deleted = "", path = ""] = record.split("\t");
    const binary = added === "-";
    const count = {
      additions: binary ? 0 : Number(added),
      deletions: binary ? 0 : Number(deleted),
      binary,
    };
    if (path === "") {
      i += 2; // old path, then new path
      counts.set(fields[i] ?? "", count);
    } else {
      counts.set(path, count);
    }
  }
  return counts;
}
