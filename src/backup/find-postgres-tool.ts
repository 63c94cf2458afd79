/**
 * pg_dump and pg_restore must be of the server's major version: an older pg_dump refuses a newer
 * server ("server version mismatch"), and a dump restores only with a pg_restore at least as new
 * as the pg_dump that wrote it. They are looked for in the folder PINLINE_PG_BIN_DIR names,
 * on PATH, and where Debian installs each major (/usr/lib/postgresql/<major>/bin); each
 * candidate is asked its version, and the first of the server's major is used.
 */
import { execFile } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type PostgresTool = "pg_dump" | "pg_restore";

export interface FoundTool {
  path: string;
  /** What `--version` printed: "pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)". */
  version: string;
}

export type ToolSearch =
  | { found: FoundTool }
  /** Why none fits, in one clause: "no pg_dump 18 in …, only pg_dump 15 (/usr/bin/pg_dump)". */
  | { found?: undefined; why: string };

/** The major a `--version` line names: "15", or "9.6" before PostgreSQL 10. */
export function toolMajor(versionLine: string): string | undefined {
  const match = /\(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(versionLine);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first >= 10 ? String(first) : `${first}.${match[2] ?? "0"}`;
}

function candidates(tool: PostgresTool, major: string, env: NodeJS.ProcessEnv): string[] {
  const folders = [
    env.PINLINE_PG_BIN_DIR,
    ...(env.PATH ?? "").split(delimiter),
    `/usr/lib/postgresql/${major}/bin`,
  ];
  const seen = new Set<string>();
  const paths: string[] = [];
  for (const folder of folders) {
    if (!folder) continue;
    const path = join(folder, tool);
    if (!existsSync(path)) continue;
    const real = realpathSync(path);
    // Debian's /usr/bin/pg_dump is pg_wrapper, which picks a version by the name it is called
    // by: one wrapper is asked once per folder it is in (/bin is often /usr/bin).
    const key = real.endsWith("pg_wrapper") ? join(realpathSync(folder), tool) : real;
    if (seen.has(key)) continue;
    seen.add(key);
    paths.push(path);
  }
  return paths;
}

/** The first `tool` of PostgreSQL `major`, or why there is none. */
export async function findPostgresTool(
  tool: PostgresTool,
  major: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ToolSearch> {
  const others: string[] = [];
  for (const path of candidates(tool, major, env)) {
    let version: string;
    try {
      version = (await run(path, ["--version"], { timeout: 10_000 })).stdout.trim();
    } catch {
      others.push(`${path} does not run`);
      continue;
    }
    const found = toolMajor(version);
    if (found === major) return { found: { path, version } };
    others.push(`${tool} ${found ?? "of an unknown version"} (${path})`);
  }
  const looked = `PINLINE_PG_BIN_DIR, PATH or /usr/lib/postgresql/${major}/bin`;
  return {
    why:
      others.length > 0
        ? `no ${tool} ${major} in ${looked}, only ${others.join(", ")}`
        : `no ${tool} in ${looked}`,
  };
}
