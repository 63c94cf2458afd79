/**
 * A CM Diagnostics repository on the GitHub simulator with a history that the promotion tests
 * reason about: seeded on T0 with staging, qa and the production stages at 2.4.0; staging and
 * qa moved to 2.4.1 at `soakStart`. People: dana opens PRs; alice and bob are approvers by
 * name; carol (write) and mallory (read) are in @acme/release-managers; erin has write access
 * but approves nothing she may; the bot is pinline's token.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Octokit } from "@octokit/rest";
import { createOctokit } from "../../src/github/create-octokit.js";
import { OctokitForge } from "../../src/github/octokit-forge.js";
import { setPinVersion } from "../../src/repo/set-pin-version.js";
import { copyExample, edit, replaceOnce } from "./example-repo.js";
import { type GitHubSimulator, startGitHubSimulator } from "./github-simulator.js";

export const PEOPLE = ["dana", "alice", "bob", "carol", "mallory", "erin", "ci"] as const;
export type Person = (typeof PEOPLE)[number];

export interface PromotionRepo {
  sim: GitHubSimulator;
  tokens: Record<Person | "bot", string>;
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
  const tokens = {
    bot: sim.addUser("pinline-bot", { permission: "write", type: "Bot" }),
    dana: sim.addUser("dana", { permission: "write" }),
    alice: sim.addUser("alice", { permission: "write" }),
    bob: sim.addUser("bob", { permission: "maintain" }),
    carol: sim.addUser("carol", { permission: "write" }),
    mallory: sim.addUser("mallory", { permission: "read" }),
    erin: sim.addUser("erin", { permission: "write" }),
    ci: sim.addUser("ci", { permission: "write", type: "Bot" }),
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
  const as = (person: Person) => new Octokit({ baseUrl: sim.url, auth: tokens[person] });
  const forge = new OctokitForge(createOctokit({ token: tokens.bot, baseUrl: sim.url }), {
    owner: sim.owner,
    repo: sim.repo,
  });
  return {
    sim,
    tokens,
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
    async close() {
      for (const dir of clones) rmSync(dir, { recursive: true, force: true });
      await sim.close();
    },
  };
}

export function hoursAfter(date: Date, hours: number): Date {
  return new Date(date.getTime() + hours * HOUR);
}
