/**
 * What a person sees when GitHub or the network says no: one line, what happened and what to
 * do, exit 2 for what they must fix (token, scopes, repository name, origin) and 1 for what may
 * pass (network, rate limits) — never "internal error" with a stack. A server of the test's own
 * answers as GitHub does, per its docs:
 * https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api and
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api (headers
 * x-ratelimit-remaining, x-ratelimit-reset, retry-after; x-oauth-scopes and
 * x-accepted-oauth-scopes; bodies { message, documentation_url }).
 */
import { execFileSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyExample, gitExample, removeCopies, runPinlineAsync } from "./harness/example-repo.js";

interface Answer {
  status: number;
  headers?: Record<string, string>;
  message: string;
}

const ANSWERS: Record<string, Answer> = {
  "bad-token": { status: 401, message: "Bad credentials" },
  scopes: {
    status: 403,
    headers: { "x-oauth-scopes": "read:org", "x-accepted-oauth-scopes": "repo" },
    message: "Resource not accessible by personal access token",
  },
  integration: { status: 403, message: "Resource not accessible by integration" },
  missing: { status: 404, message: "Not Found" },
  "rate-limit": {
    status: 403,
    headers: {
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": "1700000000",
    },
    message: "API rate limit exceeded for user ID 1.",
  },
  secondary: {
    status: 403,
    headers: { "retry-after": "1" },
    message:
      "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
  },
};

let server: Server;
let base = "";
let closedPort = 0;
let root = "";
let gitRoot = "";

beforeAll(async () => {
  // Each case is a path prefix: http://host/<case> is that case's GITHUB_API_URL.
  server = createServer((request, response) => {
    const answer = ANSWERS[(request.url ?? "").split("/")[1] ?? ""] ?? ANSWERS.missing;
    response.writeHead(answer?.status ?? 404, {
      "content-type": "application/json; charset=utf-8",
      ...answer?.headers,
    });
    response.end(
      JSON.stringify({
        message: answer?.message,
        documentation_url: "https://docs.github.com/rest",
        status: String(answer?.status),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  gitRoot = gitExample();
  root = copyExample();
  execFileSync("git", ["init", "-q", root]);
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  removeCopies();
});

/** `pinline setup github` (its first call is GET /repos/{owner}/{repo}) against `api`. */
function setupAgainst(api: string, extra: string[] = ["--repo", "acme/cm-releases"]) {
  return runPinlineAsync(
    ["setup", "github", "--gate-app-id", "1", "--dry-run", "--root", root, ...extra],
    {
      env: { GITHUB_API_URL: api, GITHUB_TOKEN: "ghp_example", GITHUB_REPOSITORY: "" },
    },
  );
}

/** The one error line (progress lines, such as a rate-limit wait, may come before it). */
function oneLine(stderr: string): string {
  expect(stderr).not.toMatch(/^\s+at |internal error/m);
  const errors = stderr.split("\n").filter((line) => line.startsWith("pinline: error: "));
  expect(errors, stderr).toHaveLength(1);
  return errors[0] ?? "";
}

/** `pinline promote` (not --local): its first call reads the base branch through the API. */
function promoteAgainst(api: string) {
  return runPinlineAsync(
    ["promote", "production-majority", "2.4.1", "--repo", "acme/cm-releases", "--root", gitRoot],
    { env: { GITHUB_API_URL: api, GITHUB_TOKEN: "ghp_example", GITHUB_REPOSITORY: "" } },
  );
}

describe("GitHub's refusals, in words", () => {
  const cases: [string, RegExp, RegExp, number][] = [
    ["bad-token", /GitHub refused the token \(401 Bad credentials\)/, /set GITHUB_TOKEN/, 2],
    [
      "scopes",
      /the token lacks the scope GET \/scopes\/repos\/acme\/cm-releases\/git\/ref\/heads\/main needs/,
      /one of: repo/,
      2,
    ],
    [
      "integration",
      /the token may not GET .* \(403 Resource not accessible by integration\)/,
      /give it that permission/,
      2,
    ],
    [
      "rate-limit",
      /rate limit for this token is used up until 2023-11-14T22:13:20.000Z/,
      /wait/,
      1,
    ],
    ["secondary", /secondary rate limit stopped GET/, /wait 1 s/, 1],
  ];
  it.each(cases)("%s", async (name, said, todo, code) => {
    const run = await promoteAgainst(`${base}/${name}`);
    const line = oneLine(run.stderr);
    expect(line).toMatch(said);
    expect(line).toMatch(todo);
    expect(run.code).toBe(code);
  });

  it("a repository the token cannot see", async () => {
    const run = await setupAgainst(`${base}/missing`);
    const line = oneLine(run.stderr);
    expect(line).toContain("acme/cm-releases was not found, or the token cannot see it");
    expect(line).toContain("has access");
    expect(run.code).toBe(2);
  });
});

describe("the network's failures, in words", () => {
  // Octokit tries a failed connection again (1 + 4 + 9 s): both cases run side by side.
  it("an API that refuses connections, and a host that does not resolve", async () => {
    const [refused, unresolved] = await Promise.all([
      setupAgainst(`http://127.0.0.1:${closedPort}`),
      setupAgainst("http://api.github.invalid"),
    ]);
    expect(oneLine(refused.stderr)).toMatch(
      new RegExp(
        `the GitHub API at http://127.0.0.1:${closedPort} is unreachable \\(ECONNREFUSED\\).*check GITHUB_API_URL`,
      ),
    );
    expect(refused.code).toBe(1);
    expect(oneLine(unresolved.stderr)).toMatch(
      /cannot resolve api\.github\.invalid \((ENOTFOUND|EAI_AGAIN), DNS\).*DNS/,
    );
    expect(unresolved.code).toBe(1);
  }, 60_000);
});

describe("a repository that is not on GitHub", () => {
  it("an origin elsewhere is named, with what to pass instead", async () => {
    execFileSync("git", [
      "-C",
      root,
      "remote",
      "add",
      "origin",
      "https://gitlab.com/acme/cm-releases.git",
    ]);
    try {
      const run = await setupAgainst(`${base}/missing`, []);
      const line = oneLine(run.stderr);
      expect(line).toContain(
        "origin is https://gitlab.com/acme/cm-releases.git, not a GitHub repository",
      );
      expect(line).toContain("--repo OWNER/NAME");
      expect(run.code).toBe(2);
    } finally {
      execFileSync("git", ["-C", root, "remote", "remove", "origin"]);
    }
  });

  it("no origin at all says so", async () => {
    const run = await setupAgainst(`${base}/missing`, []);
    expect(oneLine(run.stderr)).toContain("there is no origin remote");
    expect(run.code).toBe(2);
  });
});
