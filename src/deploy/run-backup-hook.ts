/**
 * A pin's own backup (`database.backup.command`), run instead of pinline's: split and
 * substituted as deploy.command is (core/analyze-backup-command.ts, the analysis validate
 * reports with), run without a shell, with the database URL in the variable database.urlEnv
 * names, for at most its timeout (database.backup.timeout, default 1h; then its process group is
 * stopped as deploy.command's is). Anything but exit 0 fails the backup step, and so the deploy,
 * before anything changed.
 */
import { analyzeBackupCommand, backupVariables } from "../core/analyze-backup-command.js";
import { parseDuration } from "../core/duration.js";
import { InvalidValueError, PinlineError } from "../core/errors.js";
import { describeStop, runDeployCommand } from "./run-deploy-command.js";

/** How long a backup hook may run when the pin's database.backup.timeout does not say. */
export const DEFAULT_BACKUP_TIMEOUT = "1h";

export interface BackupHookInput {
  command: string;
  environment: string;
  version: string;
  from: string;
  dir: string;
  /** database.backup.timeout (default DEFAULT_BACKUP_TIMEOUT). */
  timeout?: string | undefined;
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/** The hook's arguments; throws for what needs a shell, as validate reports it. */
export function backupHookArguments(
  input: Omit<BackupHookInput, "cwd" | "env" | "log" | "timeout">,
) {
  const { args, problems } = analyzeBackupCommand(input.command, backupVariables(input));
  const [first, ...more] = problems;
  if (first || !args) {
    const also = more.length > 0 ? `; also: ${more.map((p) => p.message).join("; ")}` : "";
    throw new InvalidValueError(`${first?.message ?? "database.backup.command is empty"}${also}`, {
      hint: first?.hint,
    });
  }
  return args;
}

/** Runs the hook; returns the step's detail, or throws when it did not exit 0. */
export async function runBackupHook(input: BackupHookInput): Promise<string> {
  const args = backupHookArguments(input);
  input.log(`  $ ${args.join(" ")}`);
  const timeout = input.timeout ?? DEFAULT_BACKUP_TIMEOUT;
  const result = await runDeployCommand({
    args,
    cwd: input.cwd,
    env: input.env,
    log: (line) => input.log(`  │ ${line}`),
    timeoutMs: parseDuration(timeout),
  }).catch((error: unknown) => {
    const cause = (error as { cause?: Error }).cause;
    throw new PinlineError(
      `database.backup.command could not start ${args[0]}: ${cause?.message ?? String(error)}`,
      { hint: `${args[0]} is not installed or not on PATH`, cause: error },
    );
  });
  if (result.stopped) {
    throw new PinlineError(
      `database.backup.command did not finish within ${timeout}; it was stopped (${describeStop(result.stopped)}); nothing was migrated or applied`,
      { hint: "make the backup finish sooner, or raise database.backup.timeout in the pin" },
    );
  }
  if (result.exitCode !== 0) {
    const last = result.tail.slice(-3).join(" / ");
    throw new PinlineError(
      `database.backup.command exited with ${result.exitCode}${last ? `: ${last}` : ""}; nothing was migrated or applied`,
    );
  }
  return `database.backup.command (${args[0]}) exited 0 in ${(result.durationMs / 1000).toFixed(1)} s; what it wrote is its own to keep or prune`;
}
