/**
 * pinline where a new user first runs it: as root with the checkout in root's 0700 home, where
 * the postgres user PostgreSQL must run as cannot read the packaged binaries; with binaries
 * that will not run; and in a repository where git has no identity to commit with. Each is
 * either made to work or refused with one line saying what to do.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { PinlineError } from "../src/core/errors.js";
import { embeddedBinaries, isRoot, startEmbeddedPostgres } from "../src/demo/embedded-postgres.js";
import { gitExample, removeCopies, runPinline } from "./harness/example-repo.js";

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  removeCopies();
});

function scratch(prefix: string, mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, mode);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("the embedded PostgreSQL", () => {
  it.runIf(isRoot())(
    "starts as root although its binaries sit in a folder only root may enter (a 0700 home)",
    async () => {
      // The packaged binaries seen through a 0700 folder, as a checkout in /root sees them.
      const home = scratch("pinline-0700-home-", 0o700);
      const { nativeDir } = embeddedBinaries();
      const hidden = join(home, "native");
      symlinkSync(nativeDir, hidden);
      // A fresh temp folder, so that the copy is made now rather than found from an earlier run.
      const previous = process.env.TMPDIR;
      process.env.TMPDIR = scratch("pinline-tmp-", 0o755);
      try {
        const binaries = embeddedBinaries(hidden);
        expect(binaries.nativeDir).not.toBe(hidden);
        expect(binaries.nativeDir.startsWith(process.env.TMPDIR)).toBe(true);
        const server = await startEmbeddedPostgres({ nativeDir: hidden });
        try {
          const client = new pg.Client({ connectionString: server.url });
          await client.connect();
          const { rows } = await client.query<{ user: string }>("select current_user as user");
          await client.end();
          expect(rows[0]?.user).toBe("postgres");
        } finally {
          await server.stop();
        }
      } finally {
        if (previous === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = previous;
      }
    },
    120_000,
  );

  it("that cannot run says so and what to do, instead of an unhandled spawn error", async () => {
    const empty = scratch("pinline-no-binaries-", 0o755);
    const failure = await startEmbeddedPostgres({ nativeDir: empty }).catch((error) => error);
    expect(failure).toBeInstanceOf(PinlineError);
    const text = (failure as PinlineError).describe();
    expect(text).toMatch(/PostgreSQL|postgres user/);
    expect(text).toContain("DATABASE_URL");
  });
});

describe("a repository where git has no identity", () => {
  it("promote --local refuses before it writes the pin, saying how to set one", () => {
    const root = gitExample();
    const home = scratch("pinline-no-identity-", 0o700);
    const pin = join(root, "environments/production-majority.yaml");
    const before = readFileSync(pin, "utf8");
    const run = runPinline(["promote", "production-majority", "2.4.1", "--local", "--root", root], {
      env: {
        HOME: home,
        GIT_CONFIG_NOSYSTEM: "1",
        // git would otherwise guess an identity from the host name where that is a full one.
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "user.useConfigOnly",
        GIT_CONFIG_VALUE_0: "true",
        GIT_AUTHOR_NAME: "",
        GIT_AUTHOR_EMAIL: "",
        GIT_COMMITTER_NAME: "",
        GIT_COMMITTER_EMAIL: "",
        EMAIL: "",
      },
    });
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("git has no identity to commit with");
    expect(run.stderr).toContain("git config user.name");
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.code).toBe(1);
    expect(readFileSync(pin, "utf8")).toBe(before);
  });
});
