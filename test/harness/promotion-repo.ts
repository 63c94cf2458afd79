/**
 * A CM Diagnostics repository on the GitHub simulator with a history that the promotion tests
 * reason about: seeded on T0 with staging, qa and the production stages at 2.4.0; staging and
 * qa moved to 2.4.1 at `soakStart`. People: dana opens PRs; alice and bob are approvers by
 * name; carol (write) and mallory (read) are in @acme/release-managers; erin has write access
 * but approves nothing she may. The bot is an installation token of the "pinline" GitHub App
 * (bot account pinline[bot]); ci is one of the "ci" App, which reports compliance check runs:
 * only Apps may write check runs on GitHub.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { createOctokit } from "../../src/github/create-octokit.js";
import { OctokitForge } from "../../src/github/octokit-forge.js";
import { setPinVersion } from "../../src/repo/set-pin-version.js";
import { copyExample, edit, replaceOnce } from "./example-repo.js";
import {
  type GitHubSimulator,
  PINLINE_APP_PERMISSIONS,
  type SimulatorApp,
  startGitHubSimulator,
} from "./github-simulator.js";

export const PEOPLE = ["dana", "alice", "bob", "carol", "mallory", "erin", "ci"] as const;
export type Person = (typeof PEOPLE)[number];

export interface PromotionRepo {
  sim: GitHubSimulator;
  tokens: Record<Person | "bot", string>;
  /** The GitHub Apps behind tokens.bot and tokens.ci (ids, client ids, private keys). */
  apps: { pinline: SimulatorApp; ci: SimulatorApp };
  /** Octokit as a person (for opening PRs, reviewing, reporting check runs). */
  as(person: Person): Octokit;
  /** The forge pinline uses, with the bot's token. */
  forge: OctokitForge;
  /** A fresh clone of main with full history (what actions/checkout gives the gate). */
  checkout(): string;
  /** The pin's text on main with a new version. */
  pinWith(environment: string, version: string): string;
  /** Opens a PR from `branch` changing pins (author = `by`); returns its number and head. */
  openPinPr(
    branch: string,
    pins: Record<string, string>,
    by?: Person,
  ): Promise<{ number: number; headSha: string }>;
  /** Reports the production policy's compliance checks on the release commit of `version`. */
  passCompliance(version: string, conclusion?: string): Promise<void>;
  /** A commit on main changing pins, at `date`. */
  setPins(pins: Record<string, string>, date: Date): Promise<void>;
  /** The text of policies/<name>.yaml on main. */
  policyText(name: string): string;
  /** The version an environment's pin names on main. */
  pinVersion(environment: string): string;
  /**
   * Protects main with a ruleset as the README's one-time setup does: changes only through
   * pull requests, and pinline/gate required from the "pinline" App (the expected source).
   */
  protectMain(): number;
  /** git in the simulator's bare repository; the trimmed output. */
  git(...args: string[]): string;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

export const T0 = new Date("2024-03-01T00:00:00Z");

export async function startPromotionRepo(options: {
  /** When staging and qa moved to 2.4.1. */
  soakStart: Date;
  /** Changes to the example copy before it is seeded. */
  prepare?: (root: string) => void;
}): Promise<PromotionRepo> {
  const sim = await startGitHubSimulator();
  const pinline = sim.addApp("pinline", { permissions: PINLINE_APP_PERMISSIONS });
  // Compliance scanners find the release commit (contents: read) and report on it.
  const ci = sim.addApp("ci", { permissions: { checks: "write", contents: "read" } });
  const tokens = {
    bot: sim.installationToken("pinline"),
    dana: sim.addUser("dana", { permission: "write" }),
    alice: sim.addUser("alice", { permission: "write" }),
    bob: sim.addUser("bob", { permission: "maintain" }),
    carol: sim.addUser("carol", { permission: "write" }),
    mallory: sim.addUser("mallory", { permission: "read" }),
    erin: sim.addUser("erin", { permission: "write" }),
    ci: sim.installationToken("ci"),
  };
  sim.addTeam("acme", "release-managers", ["carol", "mallory"]);
  const example = copyExample();
  for (const env of ["staging", "qa", "production-canary", "production-partial"]) {
    edit(example, `environments/${env}.yaml`, replaceOnce(/^version: ".*"$/m, 'version: "2.4.0"'));
  }
  options.prepare?.(example);
  sim.setClock(() => T0);
  await sim.seed(example, "Import the CM Diagnostics releases");
  const pinText = (environment: string) =>
    readFileSync(join(example, "environments", `${environment}.yaml`), "utf8");
  const current = new Map<string, string>();
  const pinWith = (environment: string, version: string) =>
    setPinVersion(current.get(environment) ?? pinText(environment), version);
  const setPins = async (pins: Record<string, string>, date: Date) => {
    const files: Record<string, string> = {};
    for (const [environment, version] of Object.entries(pins)) {
      const text = pinWith(environment, version);
      current.set(environment, text);
      files[`environments/${environment}.yaml`] = text;
    }
    await sim.commitFiles("main", files, {
      message: `Promote ${Object.keys(pins).join(", ")}`,
      date,
    });
  };
  await setPins({ staging: "2.4.1", qa: "2.4.1" }, options.soakStart);
  const clones: string[] = [];
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", sim.bareRepo, ...args], { encoding: "utf8" }).replace(/\n$/, "");
  const as = (person: Person) => new Octokit({ baseUrl: sim.url, auth: tokens[person] });
  const forge = new OctokitForge(createOctokit({ token: tokens.bot, baseUrl: sim.url }), {
    owner: sim.owner,
    repo: sim.repo,
  });
  return {
    sim,
    tokens,
    apps: { pinline, ci },
    as,
    forge,
    checkout() {
      const dir = mkdtempSync(join(tmpdir(), "pinline-checkout-"));
      clones.push(dir);
      rmSync(dir, { recursive: true });
      sim.clone(dir);
      return dir;
    },
    pinWith,
    async openPinPr(branch, pins, by = "dana") {
      const files: Record<string, string> = {};
      for (const [environment, version] of Object.entries(pins)) {
        files[`environments/${environment}.yaml`] = pinWith(environment, version);
      }
      const headSha = await sim.commitFiles(branch, files, {
        author: by,
        message: `Promote ${branch}`,
      });
      const { data } = await as(by).rest.pulls.create({
        owner: sim.owner,
        repo: sim.repo,
        head: branch,
        base: "main",
        title: `Promote (${branch})`,
      });
      return { number: data.number, headSha };
    },
    async passCompliance(version, conclusion = "success") {
      const { data } = await as("ci").rest.repos.listCommits({
        owner: sim.owner,
        repo: sim.repo,
        path: `releases/${version}/release.yaml`,
        per_page: 1,
      });
      const sha = data[0]?.sha;
      if (!sha) throw new Error(`no commit touches releases/${version}/release.yaml`);
      for (const name of ["security-scan", "license-validation", "dependency-audit"]) {
        await as("ci").rest.checks.create({
          owner: sim.owner,
          repo: sim.repo,
          name,
          head_sha: sha,
          status: "completed",
          conclusion: conclusion as "success",
        });
      }
    },
    setPins,
    policyText: (name) => git("show", `main:policies/${name}.yaml`),
    pinVersion(environment) {
      const match = /^version: "(.*)"$/m.exec(git("show", `main:environments/${environment}.yaml`));
      if (!match?.[1]) throw new Error(`environments/${environment}.yaml names no version`);
      return match[1];
    },
    protectMain: () =>
      sim.addRuleset({
        name: "main",
        target: "branch",
        enforcement: "active",
        conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
        rules: [
          {
            type: "pull_request",
            parameters: {
              required_approving_review_count: 0,
              dismiss_stale_reviews_on_push: false,
              require_code_owner_review: false,
              require_last_push_approval: false,
              required_review_thread_resolution: false,
            },
          },
          {
            type: "required_status_checks",
            parameters: {
              strict_required_status_checks_policy: false,
              required_status_checks: [{ context: "pinline/gate", integration_id: pinline.id }],
            },
          },
        ],
      }),
    git,
    async close() {
      for (const dir of clones) rmSync(dir, { recursive: true, force: true });
      await sim.close();
    },
  };
}

export function hoursAfter(date: Date, hours: number): Date {
  return new Date(date.getTime() + hours * HOUR);
}

/**
 * The repository for tests of the bundles, which read the real clock: staging and qa moved to
 * 2.4.1 sixty hours before now, production has no maintenance window (so verdicts do not depend
 * on the weekday the suite runs on), and 2.4.1 passed its compliance checks.
 */
export async function startLivePromotionRepo(
  prepare?: (root: string) => void,
): Promise<PromotionRepo> {
  const repo = await startPromotionRepo({
    soakStart: hoursAfter(new Date(), -60),
    prepare: (example) => {
      edit(example, "policies/production.yaml", (text) =>
        text.replace(/\nmaintenanceWindow:\n( {2}.*\n)+/, "\n"),
      );
      prepare?.(example);
    },
  });
  await repo.passCompliance("2.4.1");
  return repo;
}
