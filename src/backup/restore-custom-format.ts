/**
 * Restores a pg_dump custom-format backup with the pg_restore of the server's major version:
 * `--clean --if-exists` (the dump's objects are dropped and made again), `--single-transaction`
 * (all of it or none), `--no-owner` (the objects belong to the role restoring them).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { RefusedError } from "../core/errors.js";
import { libpqTarget } from "./connect-database.js";
import type { FoundTool } from "./find-postgres-tool.js";

const run = promisify(execFile);

export async function restoreCustomFormat(input: {
  databaseUrl: string;
  tool: FoundTool;
  file: string;
}): Promise<void> {
  const { dbname, env } = libpqTarget(input.databaseUrl);
  try {
    await run(
      input.tool.path,
      [
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--no-owner",
        "--no-password",
        `--dbname=${dbname}`,
        input.file,
      ],
      { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    const last = stderr.split("\n").slice(-3).join(" / ") || (error as Error).message;
    throw new RefusedError(
      `pg_restore failed and its transaction was rolled back, so the database is as it was: ${last}`,
      { hint: "check the message; the backup itself is unchanged", cause: error },
    );
  }
}
