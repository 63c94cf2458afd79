import { resolve } from "node:path";
import { InvalidArgumentError, Option } from "commander";
import { findRoot } from "../repo/find-root.js";

/** Where a command writes: stdout for results, stderr for errors (tests pass their own). */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const rootOption = () =>
  new Option("--root <dir>", "the repository (default: the one around the current directory)");

export const jsonOption = () => new Option("--json", "machine-readable output on stdout");

/** --root as given, or the repository around the current directory. */
export function resolveRoot(options: { root?: string }): string {
  return options.root ? resolve(options.root) : findRoot(process.cwd());
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError("expected a whole number of 1 or more");
  }
  return n;
}

export { plural } from "../notify/markdown.js";

/** A plain text table: columns padded to their widest cell, the last one left ragged. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ");
  return `${rows.map(line).join("\n")}\n`;
}

export const repoOption = () =>
  new Option(
    "--repo <owner/name>",
    "the GitHub repository (default: GITHUB_REPOSITORY or the origin remote)",
  );

/** The forge for a verb that talks to GitHub (token from GITHUB_TOKEN or GH_TOKEN). */
export async function connectGitHub(io: Io, root: string, repository?: string) {
  const { connectForge } = await import("../github/connect-forge.js");
  return connectForge({ root, repository, log: (m) => io.err(`pinline: ${m}\n`) });
}
