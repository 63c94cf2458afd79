/**
 * `pinline serve` from the committed bundle (dist/cli.js), as an operator starts it: it migrates
 * its schema, prints where it listens, answers, reloads on SIGHUP and stops cleanly on SIGTERM.
 * License key hashes come from `pinline serve hash-key` or sha256sum, interchangeably.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { makeCertificates } from "./harness/certificates.js";
import { removeCopies, repoRoot, runPinline } from "./harness/example-repo.js";
import type { PostgresTarget } from "./harness/postgres.js";
import {
  addRelease,
  cleanUp,
  database,
  type ExampleFeed,
  eventually,
  exampleFeed,
  request,
  startServeProcess,
  tempDir,
} from "./harness/update-server.js";

const target = inject("postgresTargets")[0] as PostgresTarget;

let feed: ExampleFeed;
let databaseUrl: string;

beforeAll(async () => {
  feed = await exampleFeed();
  databaseUrl = await database(target);
});

afterAll(async () => {
  await cleanUp();
  removeCopies();
});

const serve = startServeProcess;

const sha256sum = (text: string) =>
  execFileSync("sha256sum", { input: text, encoding: "utf8" }).split(" ")[0] as string;

describe("pinline serve (the bundle)", () => {
  it("answers update checks, reloads on SIGHUP and stops on SIGTERM", async () => {
    const server = await serve(
      ["--port", "0", "--feed", feed.out, "--reload-interval", "0"],
      { DATABASE_URL: databaseUrl }, // the variable, when --database-url is not given
    );
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.stdout()).toContain("(feed version 1: beta, custom:acme, early-access, stable)");
    expect(server.stderr()).toContain(
      "committed releases/1.0.0/migrations/0.0.0-1.0.0_update_reports.sql",
    );
    expect(server.stderr()).toContain("durable: the commit is on disk");
    const check = () =>
      request(`${server.url}/api/v1/updates/check`, { headers: { "X-Current-Version": "2.4.1" } });
    expect((await check()).json).toMatchObject({ updateAvailable: false });

    addRelease(feed.root, "2.4.5");
    const version = await feed.rebuild();
    server.child.kill("SIGHUP");
    await eventually(() => server.stderr().includes(`feed reloaded: version ${version}`));
    expect((await check()).json).toMatchObject({ updateAvailable: true, version: "2.4.5" });

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toContain("SIGTERM: closing event streams and connections");
    expect(server.stdout()).toContain("pinline serve: stopped");
  });

  it("serves mutual TLS and license keys hashed by hash-key or sha256sum", async () => {
    const certs = makeCertificates();
    const hashed = runPinline(["serve", "hash-key"], {});
    expect(hashed.code).toBe(2); // no key on stdin
    expect(hashed.stderr).toContain("no license key on stdin");
    const fromCli = execFileSync(
      process.execPath,
      [join(repoRoot, "dist/cli.js"), "serve", "hash-key"],
      {
        input: "first-key\n",
        encoding: "utf8",
      },
    ).trim();
    expect(fromCli).toBe(sha256sum("first-key"));
    const keys = join(tempDir(), "keys.txt");
    writeFileSync(
      keys,
      `# from pinline\n${fromCli}\n# from sha256sum\n${sha256sum("second-key")}  -\n`,
    );

    const server = await serve([
      "--port",
      "0",
      "--feed",
      feed.out,
      "--database-url",
      databaseUrl,
      "--license-keys",
      keys,
      "--tls-cert",
      certs.server.certFile,
      "--tls-key",
      certs.server.keyFile,
      "--client-ca",
      certs.ca.certFile,
    ]);
    expect(server.url).toMatch(/^https:/);
    const tls = { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key };
    const check = (key?: string) =>
      request(`${server.url}/api/v1/updates/check`, {
        headers: { "X-Current-Version": "2.4.0", ...(key ? { "X-License-Key": key } : {}) },
        tls,
      });
    expect((await check("first-key")).status).toBe(200);
    expect((await check("second-key")).status).toBe(200);
    expect((await check("third-key")).status).toBe(403);
    expect((await check()).status).toBe(401);

    // pinline check, as an installation: asking the server, and verifying the feed through it
    const tlsArgs = ["--ca", certs.ca.certFile, "--client-cert", certs.client.certFile];
    tlsArgs.push("--client-key", certs.client.keyFile, "--license-key", "second-key");
    const asked = runPinline([
      "check",
      "--server",
      server.url,
      "--channel",
      "stable",
      "--current",
      "2.4.0",
      "--json",
      ...tlsArgs,
    ]);
    expect(asked.code, asked.stderr).toBe(0);
    expect(JSON.parse(asked.stdout)).toEqual((await check("second-key")).json);
    const verified = runPinline([
      "check",
      "--feed",
      `${server.url}/feed`,
      "--trusted-root",
      join(feed.out, "metadata/1.root.json"),
      "--cache",
      tempDir(),
      "--channel",
      "custom:acme",
      "--current",
      "2.4.0",
      "--json",
      ...tlsArgs,
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ version: "2.4.1" });

    server.child.kill("SIGINT");
    expect(await server.exited).toBe(0);
  });

  it.each([
    [["--port", "0"], "pinline serve needs --feed"],
    [["--port", "0", "--feed", "FEED"], "needs a PostgreSQL database"],
    [
      ["--feed", "FEED", "--database-url", "DB", "--tls-cert", "x.pem"],
      "--tls-cert and --tls-key go together",
    ],
    [["--feed", "FEED", "--port", "70000"], "expected a port number"],
  ])("refuses %j with exit code 2", (args, words) => {
    const result = runPinline(
      ["serve", ...args.map((a) => (a === "FEED" ? feed.out : a === "DB" ? databaseUrl : a))],
      { env: { DATABASE_URL: "" } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(words);
  });
});
