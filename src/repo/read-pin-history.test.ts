import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PinlineError, UsageError } from "../core/errors.js";
import type { PinPeriod } from "../core/gates/gate-input.js";
import { compareVersions } from "../core/version.js";
import { buildPeriods, type PinCommit, readPinHistory } from "./read-pin-history.js";

let work: string;
let root: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "pinline-pin-history-"));
  root = join(work, "repo");
  mkdirSync(root);
  git(root, ["init", "-q", "-b", "main"]);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(work, { recursive: true, force: true });
});

const D1 = "2024-03-01T10:00:00.000Z";
const D2 = "2024-03-04T11:30:00.000Z";
const D3 = "2024-03-07T09:15:00.000Z";
const D4 = "2024-03-09T16:45:00.000Z";
const D5 = "2024-03-12T08:00:00.000Z";

/** git with fixed identity and dates, and nothing from the machine's git configuration. */
function git(dir: string, args: readonly string[], date = D1): string {
  const epoch = `${Math.floor(Date.parse(date) / 1000)} +0000`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_DATE: epoch,
    GIT_COMMITTER_DATE: epoch,
  };
  for (const name of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"]) delete env[name];
  return execFileSync(
    "git",
    ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args],
    { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();
}

function pin(version: string, extra = ""): string {
  return `# the pin\nname: prod\nstage: prod\nversion: "${version}"\ntraffic: 100\n${extra}`;
}

/** Writes (or, with null, deletes) environments/<name>.yaml and commits it; returns the commit. */
function commitPin(name: string, text: string | null, date: string, dir = root): string {
  const file = join(dir, "environments", `${name}.yaml`);
  if (text === null) unlinkSync(file);
  else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  git(dir, ["add", "-A"], date);
  git(dir, ["commit", "-q", "-m", `${name} at ${date}`], date);
  return git(dir, ["rev-parse", "HEAD"], date);
}

function period(
  version: string,
  since: string,
  commit: string,
  until?: string,
  next?: string,
): PinPeriod {
  return {
    version,
    since: new Date(since),
    commit,
    ...(until ? { until: new Date(until) } : {}),
    ...(next ? { next } : {}),
  };
}

async function historyOf(name: string, options?: { ref?: string }): Promise<PinPeriod[]> {
  const history = await readPinHistory(root, [name], options);
  return history.get(name) ?? [];
}

describe("readPinHistory", () => {
  it("reads one period for a pin set once", async () => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    expect(await historyOf("prod")).toEqual([period("2.4.0", D1, c1)]);
  });

  it("leaves the current period open: it has neither until nor next", async () => {
    commitPin("prod", pin("2.4.0"), D1);
    const [current] = await historyOf("prod");
    expect(current).not.toHaveProperty("until");
    expect(current).not.toHaveProperty("next");
  });

  it("starts a period at each change of version, and a revert names an older next", async () => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    const c2 = commitPin("prod", pin("2.4.1"), D2);
    const c3 = commitPin("prod", pin("2.4.0"), D3);

    const history = await historyOf("prod");

    expect(history).toEqual([
      period("2.4.0", D1, c1, D2, "2.4.1"),
      period("2.4.1", D2, c2, D3, "2.4.0"),
      period("2.4.0", D3, c3),
    ]);
    const reverted = history[1] as PinPeriod;
    expect(compareVersions(reverted.next as string, reverted.version)).toBe(-1);
  });

  it("does not start a period when a commit changes only a comment or another field", async () => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    commitPin("prod", pin("2.4.0", "# traffic is shifted by the mesh\n"), D2);
    commitPin("prod", pin("2.4.0").replace("traffic: 100", "traffic: 25"), D3);
    expect(await historyOf("prod")).toEqual([period("2.4.0", D1, c1)]);
  });

  it('treats "2.4.1-stable" and "2.4.1" as one version, keeping the spelling that set it', async () => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    const c2 = commitPin("prod", pin("2.4.1-stable"), D2);
    commitPin("prod", pin("2.4.1"), D3);
    expect(await historyOf("prod")).toEqual([
      period("2.4.0", D1, c1, D2, "2.4.1-stable"),
      period("2.4.1-stable", D2, c2),
    ]);
  });

  it("dates a change merged with --no-ff at the merge, not at the branch commits", async () => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    git(root, ["checkout", "-q", "-b", "promote"], D2);
    commitPin("prod", pin("2.4.1"), D2);
    commitPin("prod", pin("2.4.2"), D3);
    git(root, ["checkout", "-q", "main"], D4);
    commitPin("staging", pin("2.5.0-rc.1"), D4);
    git(root, ["merge", "-q", "--no-ff", "-m", "Merge pull request #7", "promote"], D5);
    const merge = git(root, ["rev-parse", "HEAD"], D5);

    expect(await historyOf("prod")).toEqual([
      period("2.4.0", D1, c1, D5, "2.4.2"),
      period("2.4.2", D5, merge),
    ]);
  });

  it("ends a period when the file is deleted, and starts a new one when it comes back", async () => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    commitPin("prod", null, D2);
    const c3 = commitPin("prod", pin("2.4.0"), D3);
    const c4 = commitPin("prod", pin("2.4.1"), D4);
    expect(await historyOf("prod")).toEqual([
      period("2.4.0", D1, c1, D2),
      period("2.4.0", D3, c3, D4, "2.4.1"),
      period("2.4.1", D4, c4),
    ]);
  });

  it.each([
    ["YAML that does not parse", 'name: prod\nversion: "2.4.1\n'],
    ["a version that is a number", "name: prod\nversion: 2.4\n"],
    ["a version that is not a version", 'name: prod\nversion: "v2.4.1"\n'],
    ["no version", "name: prod\n"],
    ["a document that is a list", "- 2.4.1\n"],
    ["a duplicate key", 'version: "2.4.1"\nversion: "2.4.2"\n'],
  ])("skips a commit with %s: it cannot have been deployed", async (_case, text) => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    commitPin("prod", text, D2);
    const c3 = commitPin("prod", pin("2.4.1"), D3);
    expect(await historyOf("prod")).toEqual([
      period("2.4.0", D1, c1, D3, "2.4.1"),
      period("2.4.1", D3, c3),
    ]);
  });

  it("reads several environments, each from its own file only", async () => {
    const p1 = commitPin("prod", pin("2.4.0"), D1);
    const s2 = commitPin("staging", pin("2.5.0-beta.3"), D2);
    const s3 = commitPin("staging", pin("2.5.0-rc.1"), D3);
    const p4 = commitPin("prod", pin("2.4.1"), D4);

    const history = await readPinHistory(root, ["staging", "prod", "qa"]);

    expect([...history.keys()]).toEqual(["staging", "prod", "qa"]);
    expect(history.get("prod")).toEqual([
      period("2.4.0", D1, p1, D4, "2.4.1"),
      period("2.4.1", D4, p4),
    ]);
    expect(history.get("staging")).toEqual([
      period("2.5.0-beta.3", D2, s2, D3, "2.5.0-rc.1"),
      period("2.5.0-rc.1", D3, s3),
    ]);
    expect(history.get("qa")).toEqual([]);
  });

  it("gives an environment that was never committed an empty history", async () => {
    commitPin("prod", pin("2.4.0"), D1);
    expect(await historyOf("dev")).toEqual([]);
  });

  it("reads the history up to the given ref, and not the working tree", async () => {
    const c1 = commitPin("prod", pin("2.4.0"), D1);
    git(root, ["tag", "before-upgrade"], D1);
    const c2 = commitPin("prod", pin("2.4.1"), D2);
    writeFileSync(join(root, "environments", "prod.yaml"), pin("9.9.9"));

    expect(await historyOf("prod", { ref: "before-upgrade" })).toEqual([period("2.4.0", D1, c1)]);
    expect(await historyOf("prod", { ref: c1 })).toEqual([period("2.4.0", D1, c1)]);
    expect(await historyOf("prod")).toEqual([
      period("2.4.0", D1, c1, D2, "2.4.1"),
      period("2.4.1", D2, c2),
    ]);
  });

  it("reads a pinline root that is a subdirectory of the git repository", async () => {
    const deploy = join(root, "deploy");
    mkdirSync(deploy);
    const c1 = commitPin("prod", pin("2.4.0"), D1, deploy);
    const history = await readPinHistory(deploy, ["prod"]);
    expect(history.get("prod")).toEqual([period("2.4.0", D1, c1)]);
  });

  it("answers an empty list of environments with an empty map", async () => {
    commitPin("prod", pin("2.4.0"), D1);
    expect(await readPinHistory(root, [])).toEqual(new Map());
  });

  it.each([
    ["a directory outside any repository", () => mkdtempSync(join(work, "plain-"))],
    ["a directory that does not exist", () => join(work, "missing")],
  ])("refuses %s: it is not a git repository", async (_case, makeDir) => {
    vi.stubEnv("GIT_CEILING_DIRECTORIES", work);
    const dir = makeDir();
    const failure = readPinHistory(dir, ["prod"]);
    await expect(failure).rejects.toThrow(PinlineError);
    await expect(failure).rejects.toThrow(`${dir} is not a git repository`);
    await expect(failure).rejects.toMatchObject({ hint: expect.stringContaining("clone") });
  });

  it("refuses a shallow clone and says how to fetch the full history", async () => {
    commitPin("prod", pin("2.4.0"), D1);
    commitPin("prod", pin("2.4.1"), D2);
    const clone = join(work, "shallow");
    git(work, ["clone", "-q", "--depth", "1", `file://${root}`, clone]);

    const failure = readPinHistory(clone, ["prod"]);

    await expect(failure).rejects.toThrow(PinlineError);
    await expect(failure).rejects.toThrow(/is a shallow clone: pin history needs the full git/);
    await expect(failure).rejects.toMatchObject({
      hint: expect.stringMatching(/fetch-depth: 0.*git fetch --unshallow/),
    });
  });

  it.each([
    ["a branch that does not exist", "no-such-branch"],
    ["text that looks like an option", "--all"],
  ])("refuses a ref that is %s", async (_case, ref) => {
    commitPin("prod", pin("2.4.0"), D1);
    await expect(readPinHistory(root, ["prod"], { ref })).rejects.toThrow(
      `"${ref}" names no commit in ${root}`,
    );
  });

  it("refuses HEAD of a repository without commits", async () => {
    await expect(readPinHistory(root, ["prod"])).rejects.toThrow('"HEAD" names no commit');
  });

  it.each([["../secrets"], ["prod*"], ["Prod"], [""], ["prod\nqa"]])(
    "refuses the environment name %j before running git",
    async (name) => {
      await expect(readPinHistory(root, [name])).rejects.toThrow(UsageError);
    },
  );
});

describe("buildPeriods", () => {
  const entry = (commit: string, date: string, text: string | undefined): PinCommit => ({
    commit,
    date: new Date(date),
    text,
  });

  it.each<[string, PinCommit[], PinPeriod[]]>([
    ["no commits", [], []],
    [
      "a deletion before the file ever named a version",
      [entry("a", D1, "name: prod\n"), entry("b", D2, undefined), entry("c", D3, pin("2.4.0"))],
      [period("2.4.0", D3, "c")],
    ],
    [
      "an unreadable commit between two equal versions",
      [entry("a", D1, pin("2.4.0")), entry("b", D2, "version: ["), entry("c", D3, pin("2.4.0"))],
      [period("2.4.0", D1, "a")],
    ],
    [
      "the same version after a deletion",
      [entry("a", D1, pin("2.4.0")), entry("b", D2, undefined), entry("c", D3, pin("2.4.0"))],
      [period("2.4.0", D1, "a", D2), period("2.4.0", D3, "c")],
    ],
    [
      "a deletion of a file already deleted",
      [entry("a", D1, pin("2.4.0")), entry("b", D2, undefined), entry("c", D3, undefined)],
      [period("2.4.0", D1, "a", D2)],
    ],
    [
      "a nightly, then the rc of the same release",
      [entry("a", D1, pin("2.5.0-nightly.20240315")), entry("b", D2, pin("2.5.0-rc.1"))],
      [period("2.5.0-nightly.20240315", D1, "a", D2, "2.5.0-rc.1"), period("2.5.0-rc.1", D2, "b")],
    ],
    [
      "a single-quoted and an unquoted spelling of one version",
      [entry("a", D1, "version: '2.4.0'\n"), entry("b", D2, "version: 2.4.0\n")],
      [period("2.4.0", D1, "a")],
    ],
  ])("folds %s", (_case, entries, expected) => {
    expect(buildPeriods(entries)).toEqual(expected);
  });
});
