/**
 * The docs show what pinline prints. Every block of program output in README.md and docs/ is
 * marked `<!-- output: <id> -->`; this test produces each one by running the real code — the CLI
 * bundle on a copy of the example, the gate against the GitHub simulator — and holds the page to
 * it, with what changes from run to run (shas, dates, durations, paths, ports) normalised the
 * same way on both sides. It also holds every relative link and anchor of the docs, the docs
 * index to every page, and each action's page to its action.yml.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, normalize } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { gatePullRequest } from "../src/gate/evaluate-pull-request.js";
import {
  docPages,
  headingAnchors,
  normaliseOutput,
  readPage,
  relativeLinks,
  shownOutput,
  shownOutputs,
} from "./harness/docs-pages.js";
import {
  copyExample,
  EXAMPLE_KEYS,
  edit,
  gitExample,
  removeCopies,
  replaceOnce,
  repoRoot,
  runPinline,
} from "./harness/example-repo.js";
import { hoursAfter, type PromotionRepo, startPromotionRepo } from "./harness/promotion-repo.js";

let promotionRepo: PromotionRepo | undefined;
const scratch: string[] = [];
afterAll(async () => {
  await promotionRepo?.close();
  removeCopies();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pinline-docs-"));
  scratch.push(dir);
  return dir;
}

/** The CLI bundle in `cwd`, as a reader runs it there; its stdout, whatever the exit code. */
function pinline(cwd: string, ...args: string[]): string {
  const run = runPinline(args, { cwd });
  expect(run.stderr, `pinline ${args.join(" ")}`).toBe("");
  return run.stdout;
}

/** Builds a feed of the example (fresh keys), in `<copy>/feed`; returns the copy. */
function exampleWithFeed(): { root: string; built: string } {
  const root = copyExample();
  const keys = join(scratchDir(), "keys");
  pinline(root, "feed", "keys", "--out", keys);
  const built = pinline(root, "feed", "build", "--out", "feed", "--keys", keys);
  return { root, built };
}

interface Producer {
  /** What the page's block shows, in words, for the test's name. */
  what: string;
  produce(): string | Promise<string>;
  /** More to normalise for this block, on both sides. */
  normalise?(text: string): string;
}

/** Blocks whose output another test produces, because producing it is slow there already. */
const HELD_ELSEWHERE: Record<string, string> = {
  "demo-final-state": "test/demo.test.ts",
};

const PRODUCERS: Record<string, Producer> = {
  "validate-example": {
    what: "pinline validate on the example",
    produce: () => pinline(copyExample(), "validate"),
  },
  "validate-finding": {
    what: "pinline validate with a wrong stage in environments/qa.yaml",
    produce: () => {
      const root = copyExample();
      edit(root, "environments/qa.yaml", replaceOnce("stage: staging", "stage: stagging"));
      return pinline(root, "validate");
    },
  },
  "release-create": {
    what: "pinline release create 2.4.3",
    produce: () => pinline(copyExample(), "release", "create", "2.4.3"),
  },
  "sign-release": {
    what: "pinline sign releases/2.4.3 with the first example key",
    produce: () => {
      const root = copyExample();
      pinline(root, "release", "create", "2.4.3");
      return pinline(root, "sign", "releases/2.4.3", "--key", EXAMPLE_KEYS[0] as string);
    },
  },
  "verify-example": {
    what: "pinline verify releases/2.4.1",
    produce: () => pinline(copyExample(), "verify", "releases/2.4.1"),
  },
  "keys-list": {
    what: "pinline keys list",
    produce: () => pinline(copyExample(), "keys", "list"),
  },
  "plan-qa": {
    what: "pinline plan qa --to 2.5.0-beta.3 on a git clone of the example",
    produce: () => pinline(gitExample(), "plan", "qa", "--to", "2.5.0-beta.3"),
  },
  "feed-build": {
    what: "pinline feed build --out feed",
    produce: () => exampleWithFeed().built,
  },
  "check-feed": {
    what: "pinline check --channel stable --current 2.0.0 against the example's feed",
    produce: () => {
      const { root } = exampleWithFeed();
      const cache = join(scratchDir(), "cache");
      return pinline(
        root,
        "check",
        "--channel",
        "stable",
        "--current",
        "2.0.0",
        "--feed",
        "feed",
        "--cache",
        cache,
      );
    },
    // The page shows the feed as published on Pages; the test reads a folder built just now.
    normalise: (text) =>
      text.replace(
        /^source: feed \S+ \(verified\), feed version \d+$/m,
        "source: feed <feed> (verified), feed version <n>",
      ),
  },
  "check-repository": {
    what: "pinline check --channel beta --current 2.0.0 from the repository",
    produce: () => pinline(copyExample(), "check", "--channel", "beta", "--current", "2.0.0"),
  },
  "gate-check-run": {
    what: "the pinline/gate check run of a promotion to production-partial before the window",
    produce: gateCheckRun,
    normalise: checkRunLines,
  },
};

/**
 * The check run the gate writes for a promotion of production-partial to 2.4.1, an hour and a
 * half before Saturday's window, approved by alice and by erin (who is not an approver).
 */
async function gateCheckRun(): Promise<string> {
  const now = new Date("2024-03-16T01:30:00Z");
  promotionRepo = await startPromotionRepo({ soakStart: hoursAfter(now, -80) });
  const repo = promotionRepo;
  await repo.setPins({ "production-canary": "2.4.1" }, hoursAfter(now, -30));
  await repo.passCompliance("2.4.1");
  const root = repo.checkout();
  const pr = await repo.openPinPr("promote-partial", { "production-partial": "2.4.1" });
  for (const person of ["alice", "erin"] as const) {
    await repo.as(person).rest.pulls.createReview({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      pull_number: pr.number,
      event: "APPROVE",
    });
  }
  await gatePullRequest({ root, forge: repo.forge, number: pr.number, now });
  const check = repo.sim.state.checkRuns.find((c) => c.headSha === pr.headSha);
  const summary = (check?.output.summary ?? "")
    .split("\n")
    .filter((line) => line.startsWith("|") || line.startsWith("### "));
  return [`**${check?.output.title}**`, ...summary].join("\n");
}

/**
 * A check run as Markdown renders it: its title, headings and table rows, cells trimmed (the
 * page is formatted, the check run is not); the flowchart below them is described in words on
 * the page.
 */
function checkRunLines(text: string): string {
  return text
    .split("\n")
    .filter((line) => line.startsWith("**") || line.startsWith("|") || line.startsWith("### "))
    .map((line) =>
      line.startsWith("|")
        ? line
            .split("|")
            .map((cell) => cell.trim().replace(/^-+$/, "---"))
            .join("|")
        : line,
    )
    .join("\n");
}

describe("the program output the docs show", () => {
  const shown = shownOutputs();

  it("every marked block is produced here or by a test named for it, and each only once", () => {
    const ids = shown.map((block) => block.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(ids.filter((id) => !PRODUCERS[id] && !HELD_ELSEWHERE[id])).toEqual([]);
    expect(
      Object.keys({ ...PRODUCERS, ...HELD_ELSEWHERE }).filter((id) => !ids.includes(id)),
    ).toEqual([]);
    for (const [id, test] of Object.entries(HELD_ELSEWHERE)) {
      expect(readFileSync(join(repoRoot, test), "utf8"), `${test} holds ${id}`).toContain(
        `shownOutput("${id}")`,
      );
    }
  });

  for (const [id, producer] of Object.entries(PRODUCERS)) {
    it(`shows what ${producer.what} prints (${id})`, async () => {
      const block = shownOutput(id);
      const extra = producer.normalise ?? ((text: string) => text);
      const page = normaliseOutput(extra(block.text));
      const program = normaliseOutput(extra(await producer.produce()));
      expect(page, `${block.page}:${block.line}`).toBe(program);
    }, 60_000);
  }
});

describe("the docs' links", () => {
  it("every relative link points to a file of the repository, and every anchor to a heading", () => {
    const broken: string[] = [];
    for (const page of docPages()) {
      for (const link of relativeLinks(page)) {
        const [path = "", anchor] = link.target.split("#");
        const target = path === "" ? page : normalize(join(dirname(page), path));
        const where = `${page}:${link.line}: ${link.target}`;
        if (!existsSync(join(repoRoot, target))) {
          broken.push(`${where}: no such file`);
        } else if (anchor !== undefined && target.endsWith(".md")) {
          if (!headingAnchors(target).has(anchor)) broken.push(`${where}: no such heading`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("the docs index links every page of docs/", () => {
    const linked = new Set(
      relativeLinks("docs/README.md").map((link) =>
        normalize(join("docs", link.target.split("#")[0] ?? "")),
      ),
    );
    const pages = docPages().filter(
      (page) => page.startsWith("docs/") && page !== "docs/README.md",
    );
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });
});

describe("the GitHub setup guide", () => {
  /** `checks: write; contents, pull-requests: read` → { checks: "write", contents: "read", … } */
  function permissions(cell: string): Record<string, string> {
    const granted: Record<string, string> = {};
    for (const part of cell.split(";")) {
      const [names = "", level = ""] = part.split(":").map((text) => text.trim());
      for (const name of names.split(",")) granted[name.trim()] = level;
    }
    return granted;
  }

  it("lists the permissions each workflow mints its App token with", () => {
    const rows = readPage("docs/github-setup.md")
      .split("\n")
      .map((line) => /^\| \[`([\w-]+\.yml)`\]\([^)]*\) *\|[^|]*\| ([^|]*?) *\|$/.exec(line))
      .filter((match) => match !== null);
    expect(rows.length).toBeGreaterThan(0);
    for (const [, workflow, cell] of rows) {
      const text = readFileSync(join(repoRoot, ".github/workflows", workflow as string), "utf8");
      const minted = Object.fromEntries(
        [...text.matchAll(/^\s+permission-([\w-]+): (\w+)/gm)].map((m) => [m[1], m[2]]),
      );
      expect(permissions(cell as string), workflow).toEqual(minted);
    }
  });
});

describe("the actions' pages", () => {
  interface ActionSpec {
    inputs?: Record<string, { required?: boolean; default?: string }>;
    outputs?: Record<string, unknown>;
  }
  const actions = [
    "changed-pins",
    "deploy",
    "gate",
    "migrate",
    "promote",
    "publish",
    "sign",
    "update-check",
    "validate",
    "verify",
  ];

  /** The rows of the page's table whose header's first cell is `first`: name → second cell. */
  function tableRows(page: string, first: string): Map<string, string> {
    const lines = readPage(page).split("\n");
    const header = lines.findIndex((line) => new RegExp(`^\\| *${first} *\\|`).test(line));
    const rows = new Map<string, string>();
    for (let i = header + 2; header >= 0 && (lines[i] ?? "").startsWith("|"); i++) {
      const cells = (lines[i] as string).split("|").map((cell) => cell.trim());
      rows.set((cells[1] ?? "").replace(/`/g, ""), cells[2] ?? "");
    }
    return rows;
  }

  for (const name of actions) {
    it(`docs/actions/${name}.md lists exactly the inputs, defaults and outputs of actions/${name}/action.yml`, () => {
      const spec = parse(
        readFileSync(join(repoRoot, `actions/${name}/action.yml`), "utf8"),
      ) as ActionSpec;
      const page = `docs/actions/${name}.md`;
      const inputs = tableRows(page, "input");
      const expected = new Map(
        Object.entries(spec.inputs ?? {}).map(([key, input]) => [
          key,
          input.default === undefined
            ? input.required
              ? "(required)"
              : "—"
            : `\`${input.default === "" ? '""' : input.default}\`${input.required ? " (required)" : ""}`,
        ]),
      );
      expect(Object.fromEntries(inputs)).toEqual(Object.fromEntries(expected));
      expect([...tableRows(page, "output").keys()]).toEqual(Object.keys(spec.outputs ?? {}));
    });
  }

  it("every action has a page", () => {
    expect(readdirSync(join(repoRoot, "actions")).sort()).toEqual(actions);
  });
});
