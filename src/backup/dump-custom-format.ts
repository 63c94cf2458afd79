/**
 * The first backup method: `pg_dump --format=custom` of the whole database, by a pg_dump of the
 * server's major version — schema, data, sequences and the migration history, restorable by
 * pg_restore. Written whole or not at all.
 */
import { spawn } from "node:child_process";
import { PinlineError } from "../core/errors.js";
import { libpqTarget } from "./connect-database.js";
import type { FoundTool } from "./find-postgres-tool.js";
import { WholeFile, type WrittenFile } from "./write-whole-file.js";

/** The last lines pg_dump wrote to stderr, for the failure message. */
function lastLines(text: string, count = 3): string {
  return text.trim().split("\n").slice(-count).join(" / ");
}

export async function dumpCustomFormat(input: {
  databaseUrl: string;
  tool: FoundTool;
  file: string;
}): Promise<WrittenFile> {
  const { dbname, env } = libpqTarget(input.databaseUrl);
  const out = await WholeFile.create(input.file);
  const child = spawn(input.tool.path, ["--format=custom", "--no-password", `--dbname=${dbname}`], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr = (stderr + text).slice(-4_000);
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  try {
    await out.writeAll(child.stdout);
    const code = await exited;
    if (code !== 0) {
      throw new PinlineError(`pg_dump exited with ${code}: ${lastLines(stderr) || "no message"}`);
    }
    return await out.commit();
  } catch (error) {
    child.kill();
    await exited.catch(() => {});
    await out.abort();
    throw error;
  }
}
