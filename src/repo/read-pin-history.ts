/**
 * Pin history (DESIGN §2): when each environment's pin named which version, read from git.
 * The soak and revert rules judge time on a version, and the only trustworthy clock for "when
 * did production start running 2.4.1" is the commit that changed `version` landing on the
 * branch. History is read along first parents, so a pull request merged with a merge commit
 * counts from the moment it was merged, not from when its branch commits were written.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { parse } from "yaml";
import { PinlineError, UsageError } from "../core/errors.js";
import type { PinPeriod } from "../core/gates/gate-input.js";
import { sameVersion, tryParseVersion } from "../core/version.js";

const run = promisify(execFile);

/** git output can be long for a busy pin; the default 1 MiB is not enough for years of it. */
const MAX_OUTPUT = 256 * 1024 * 1024;

const ENVIRONMENT_NAME = /^[a-z0-9][a-z0-9-]*$/;

const SHALLOW_HINT =
  "check out with full history (actions/checkout with fetch-depth: 0), or run git fetch --unshallow";

export interface ReadPinHistoryOptions {
  /** The commit whose history is read: a branch, tag or commit (default "HEAD"). */
  ref?: string;
}

/**
 * Reads the pin history of each environment from the git repository at `root`: the periods
 * during which `environments/<name>.yaml` named one version, oldest first. An environment
 * whose file was never committed has an empty history. Throws PinlineError when `root` is not
 * a git repository, when it is a shallow clone (the history would be cut short and the soak
 * times wrong), or when `ref` names no commit.
 */
export async function readPinHistory(
  root: string,
  environments: readonly string[],
  options: ReadPinHistoryOptions = {},
): Promise<Map<string, PinPeriod[]>> {
  for (const name of environments) checkEnvironmentName(name);
  const prefix = await openRepository(root);
  const commit = await resolveCommit(root, options.ref ?? "HEAD");
  const logs = await Promise.all(
    environments.map((name) => listPinCommits(root, commit, pinPath(name))),
  );
  const requests = environments.flatMap((name, i) =>
    (logs[i] ?? []).map((entry) => `${entry.commit}:${prefix}${pinPath(name)}`),
  );
  const contents = await readBlobs(root, requests);
  const history = new Map<string, PinPeriod[]>();
  let next = 0;
  environments.forEach((name, i) => {
    const entries = (logs[i] ?? []).map((entry) => ({ ...entry, text: contents[next++] }));
    history.set(name, buildPeriods(entries));
  });
  return history;
}

/** One commit that touched a pin file, with the file as it was after it (absent: deleted). */
export interface PinCommit {
  commit: string;
  /** Committer date: when the commit landed on the branch. */
  date: Date;
  text: string | undefined;
}

/**
 * Folds a pin file's commits (oldest first) into periods. A commit that does not change the
 * version (canonically: "2.4.1-stable" is "2.4.1") extends the current period; one that does
 * ends it and starts the next. A commit whose file cannot be read or names no valid version is
 * skipped: validation refuses such a pin, so it was never deployed. Deleting the file ends the
 * current period with no successor.
 */
export function buildPeriods(entries: readonly PinCommit[]): PinPeriod[] {
  const periods: PinPeriod[] = [];
  let current: PinPeriod | undefined;
  for (const entry of entries) {
    if (entry.text === undefined) {
      if (current) current.until = entry.date;
      current = undefined;
      continue;
    }
    const version = readPinVersion(entry.text);
    if (version === undefined) continue;
    if (current && sameVersion(current.version, version)) continue;
    if (current) {
      current.until = entry.date;
      current.next = version;
    }
    current = { version, since: entry.date, commit: entry.commit };
    periods.push(current);
  }
  return periods;
}

/** The pin's `version` as written, or undefined when the file could not have been deployed. */
function readPinVersion(text: string): string | undefined {
  let value: unknown;
  try {
    value = parse(text, {
      version: "1.2",
      schema: "core",
      merge: false,
      uniqueKeys: true,
      logLevel: "error",
      maxAliasCount: 100,
    });
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const version = (value as Record<string, unknown>).version;
  if (typeof version !== "string" || tryParseVersion(version) === undefined) return undefined;
  return version;
}

function pinPath(name: string): string {
  return `environments/${name}.yaml`;
}

/** Names reach git as paths; only the names the schema allows can be asked for. */
function checkEnvironmentName(name: string): void {
  if (!ENVIRONMENT_NAME.test(name)) {
    throw new UsageError(`${JSON.stringify(name)} is not an environment name`, {
      hint: 'environment names are lowercase letters, digits and dashes, such as "production-canary"',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// git

/**
 * Makes sure `root` is in a git work tree with full history, and returns its path from the
 * top of the work tree ("" at the top, "deploy/" in a subdirectory) for naming blobs.
 */
async function openRepository(root: string): Promise<string> {
  let output: string;
  try {
    output = await git(root, ["rev-parse", "--is-shallow-repository", "--show-prefix"]);
  } catch (error) {
    throw notARepository(root, error);
  }
  const [shallow, prefix = ""] = output.split("\n");
  if (shallow === "true") {
    throw new PinlineError(
      `${root} is a shallow clone: pin history needs the full git history, or soak times and reverts would be judged from a cut-off past`,
      { hint: SHALLOW_HINT },
    );
  }
  return prefix;
}

function notARepository(root: string, error: unknown): PinlineError {
  const stderr = stderrOf(error);
  if (/not a git repository|cannot change to/i.test(stderr)) {
    return new PinlineError(`${root} is not a git repository: pin history is read from git`, {
      hint: "run pinline in a clone of the repository (actions/checkout with fetch-depth: 0)",
      cause: error,
    });
  }
  if (/dubious ownership/i.test(stderr)) {
    return new PinlineError(`git refuses to read ${root}: ${firstLine(stderr)}`, {
      hint: `run git config --global --add safe.directory ${root}, or check out as the user that runs pinline`,
      cause: error,
    });
  }
  return gitFailed(root, error);
}

/** The commit `ref` names; refused when it names none (an unknown branch, an empty repository). */
async function resolveCommit(root: string, ref: string): Promise<string> {
  try {
    const commit = await git(root, [
      "rev-parse",
      "--verify",
      "--end-of-options",
      `${ref}^{commit}`,
    ]);
    return commit.trim();
  } catch (error) {
    if (!isExecError(error)) throw gitFailed(root, error);
    throw new PinlineError(`"${ref}" names no commit in ${root}`, {
      hint: "pass a branch, tag or commit that exists (an empty repository has no history yet)",
      cause: error,
    });
  }
}

/** The first-parent commits that touched `path` up to `commit`, oldest first. */
async function listPinCommits(
  root: string,
  commit: string,
  path: string,
): Promise<{ commit: string; date: Date }[]> {
  const output = await gitOrFail(root, [
    "--literal-pathspecs",
    "log",
    "--first-parent",
    "--reverse",
    "--no-follow",
    "--no-show-signature",
    "--format=%H%x09%cI",
    commit,
    "--",
    path,
  ]);
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [hash = "", date = ""] = line.split("\t");
      return { commit: hash, date: new Date(date) };
    });
}

/**
 * The contents of `<commit>:<path>` for each request, in order, from one `git cat-file --batch`
 * process; undefined where the file does not exist at that commit (or is not a file).
 */
async function readBlobs(
  root: string,
  requests: readonly string[],
): Promise<(string | undefined)[]> {
  if (requests.length === 0) return [];
  const output = await gitWithInput(root, ["cat-file", "--batch"], `${requests.join("\n")}\n`);
  return splitBatchOutput(output, requests.length);
}

/**
 * Reads `git cat-file --batch` output: for each request either `<oid> <type> <size>\n`
 * followed by size bytes and a newline, or `<name> missing\n` (also "ambiguous").
 */
function splitBatchOutput(output: Buffer, count: number): (string | undefined)[] {
  const contents: (string | undefined)[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const end = output.indexOf(0x0a, offset);
    if (end < 0) throw new PinlineError("git cat-file --batch stopped early");
    const header = output.subarray(offset, end).toString("utf8");
    offset = end + 1;
    const match = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!match) {
      contents.push(undefined);
      continue;
    }
    const size = Number(match[2]);
    const body = output.subarray(offset, offset + size);
    offset += size + 1;
    contents.push(match[1] === "blob" ? body.toString("utf8") : undefined);
  }
  return contents;
}

/**
 * The environment git runs in: variables that would point it at another repository (set when
 * pinline runs inside a git hook) are dropped, and messages are in English so they can be read.
 */
export function gitEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
  for (const name of [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
  ]) {
    delete env[name];
  }
  return env;
}

async function git(root: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run("git", ["-C", root, ...args], {
    env: gitEnvironment(),
    maxBuffer: MAX_OUTPUT,
    encoding: "utf8",
  });
  return stdout;
}

async function gitOrFail(root: string, args: readonly string[]): Promise<string> {
  try {
    return await git(root, args);
  } catch (error) {
    throw gitFailed(root, error);
  }
}

/** Runs git with `input` on stdin and returns its stdout as bytes (blob sizes are in bytes). */
function gitWithInput(root: string, args: readonly string[], input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", root, ...args], {
      env: gitEnvironment(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => reject(gitFailed(root, error)));
    child.on("close", (code) => {
      if (code === 0) return resolve(Buffer.concat(stdout));
      const failure = Object.assign(new Error(`git ${args.join(" ")} exited with ${code}`), {
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
      reject(gitFailed(root, failure));
    });
    child.stdin.on("error", () => {
      // The process ended before reading all requests; its exit code says why.
    });
    child.stdin.end(input);
  });
}

function gitFailed(root: string, error: unknown): PinlineError {
  if ((error as NodeJS.ErrnoException)?.code === "ENOENT") {
    return new PinlineError("git is not installed or not on PATH: pin history is read with git", {
      hint: "install git, or run pinline where git is available",
      cause: error,
    });
  }
  const detail = firstLine(stderrOf(error)) || (error as Error)?.message || String(error);
  return new PinlineError(`git could not read the history of ${root}: ${detail}`, {
    cause: error,
  });
}

/** Whether git ran and exited with an error (as opposed to not starting at all). */
function isExecError(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === "number";
}

function stderrOf(error: unknown): string {
  const stderr = (error as { stderr?: unknown })?.stderr;
  return typeof stderr === "string" ? stderr : "";
}

function firstLine(text: string): string {
  return (
    text
      .trim()
      .split("\n")[0]
      ?.replace(/^fatal: /, "") ?? ""
  );
}

/**
 * The version an environment ran before its current one (the latest earlier period with
 * another version), from the pin's git history; undefined when it never ran another.
 */
export async function previousPinVersion(
  root: string,
  environment: string,
  current: string,
): Promise<string | undefined> {
  const periods = (await readPinHistory(root, [environment])).get(environment) ?? [];
  const canonical = tryParseVersion(current)?.canonical;
  return periods
    .slice(0, -1)
    .reverse()
    .find((period) => tryParseVersion(period.version)?.canonical !== canonical)?.version;
}
