import { execFile, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { signRelease } from "../../src/trust/sign-release.js";

/** The checkout: its example data is what every test starts from. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../..");

const made: string[] = [];

/** A copy of the example repository (its data, schemas and trusted keys) in a temp folder. */
export function copyExample(): string {
  const root = mkdtempSync(join(tmpdir(), "pinline-test-"));
  made.push(root);
  for (const dir of ["releases", "policies", "environments", "schemas", "keys"]) {
    cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
  }
  return root;
}

/** Removes every copy made so far (call from afterAll). */
export function removeCopies(): void {
  for (const root of made.splice(0)) rmSync(root, { recursive: true, force: true });
}

/** Rewrites a file of a copy; `change` gets the text and returns the new text. */
export function edit(root: string, file: string, change: (text: string) => string): void {
  const path = join(root, file);
  const before = readFileSync(path, "utf8");
  const after = change(before);
  if (after === before) throw new Error(`edit of ${file} changed nothing`);
  writeFileSync(path, after);
}

/** Replaces exactly one occurrence of `from`, so a test cannot silently edit the wrong place. */
export function replaceOnce(from: string | RegExp, to: string): (text: string) => string {
  return (text) => {
    const count =
      typeof from === "string"
        ? text.split(from).length - 1
        : (text.match(new RegExp(from.source, `${from.flags.replace("g", "")}g`)) ?? []).length;
    if (count !== 1) throw new Error(`expected one ${String(from)}, found ${count}`);
    return text.replace(from, to);
  };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the committed CLI bundle, as `npx pinline` does. */
export function runPinline(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Run {
  const result = spawnSync(process.execPath, [join(repoRoot, "dist/cli.js"), ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
    ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * runPinline on a pseudo-terminal (util-linux script(1)), answering the question it asks with
 * `answer`: what a person at a terminal sees. stdout holds everything the terminal showed.
 */
export function runPinlineAtTerminal(args: readonly string[], answer: string): Run {
  const command = [process.execPath, join(repoRoot, "dist/cli.js"), ...args]
    .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`)
    .join(" ");
  const result = spawnSync("script", ["-qec", command, "/dev/null"], {
    input: `${answer}\n`,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * runPinline without blocking this process, for verbs that talk to a server the test runs
 * in-process (the GitHub simulator).
 */
export function runPinlineAsync(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, "dist/cli.js"), ...args],
      { cwd: options.cwd ?? repoRoot, env: { ...process.env, ...options.env }, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A copy of the example repository committed to a fresh git repository (pin history for the gate). */
export function gitExample(): string {
  const root = copyExample();
  const git = (...args: string[]) => {
    const result = spawnSync("git", ["-C", root, ...args], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  };
  git("init", "-q", "-b", "main");
  // The repository's own identity: the tests' commits (promote --local, revert) need none from
  // the machine, which may have no git identity at all.
  git("config", "user.name", "CM Diagnostics");
  git("config", "user.email", "releases@cm-diagnostics.example.com");
  git("add", "-A");
  git("commit", "-q", "-m", "Import the CM Diagnostics releases");
  return root;
}

/** The example signing keys' private halves (examples/signing-keys): example only. */
export const EXAMPLE_KEYS = [1, 2].map((n) =>
  join(repoRoot, `examples/signing-keys/cm-diagnostics-example-${n}.private.asc`),
);

/** Signs a release with both example keys, as production's threshold of 2 asks. */
export async function signWithExampleKeys(root: string, releaseDir: string): Promise<void> {
  for (const key of EXAMPLE_KEYS) {
    await signRelease({ root, releaseDir, armoredPrivateKey: readFileSync(key, "utf8") });
  }
}
