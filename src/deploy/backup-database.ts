/**
 * The deploy's backup step (DESIGN §2 step 2): the pin's own hook when it names one
 * (`database.backup.command`), else pinline's backup of the application's data
 * (backup/take-backup.ts: pg_dump custom format, or the COPY archive, or — saying plainly that
 * the data is not backed up — the schema alone) into the backup folder; then the folder keeps
 * the environment's newest `keep` backups. A failure fails the step, before anything changed.
 */
import { mkdirSync } from "node:fs";
import { pruneBackups } from "../backup/prune-backups.js";
import { takeBackup } from "../backup/take-backup.js";
import type { DeployReport } from "./deploy-report.js";
import { runBackupHook } from "./run-backup-hook.js";

export interface BackupStepInput {
  databaseUrl: string;
  /** The variable database.urlEnv names: the hook finds the URL there. */
  urlEnv: string;
  /** The pin's database.backup.command, if any, and its timeout. */
  command?: string | undefined;
  timeout?: string | undefined;
  dir: string;
  environment: string;
  from: string;
  to: string;
  schemaVersion: string | null;
  /** How many backups of the environment the folder keeps (rollback.keepVersions). */
  keep: number;
  at: Date;
  root: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

export interface BackupStepResult {
  detail: string;
  backup: NonNullable<DeployReport["backup"]>;
}

export async function backupDatabase(input: BackupStepInput): Promise<BackupStepResult> {
  if (input.command !== undefined) {
    mkdirSync(input.dir, { recursive: true }); // ${dir} is there for the hook to write in
    const detail = await runBackupHook({
      command: input.command,
      environment: input.environment,
      version: input.to,
      from: input.from,
      dir: input.dir,
      timeout: input.timeout,
      cwd: input.root,
      env: { ...input.env, [input.urlEnv]: input.databaseUrl },
      log: input.log,
    });
    return { detail, backup: { method: "hook", holdsData: true } };
  }
  const backup = await takeBackup({
    databaseUrl: input.databaseUrl,
    dir: input.dir,
    environment: input.environment,
    from: input.from,
    to: input.to,
    schemaVersion: input.schemaVersion,
    at: input.at,
    env: input.env,
  });
  const removed = pruneBackups(input.dir, input.environment, input.keep);
  const kept =
    removed.length > 0 ? `; ${removed.length} older removed (keeping ${input.keep})` : "";
  return {
    detail: `${backup.detail}${kept}`,
    backup: { method: backup.method, file: backup.file, holdsData: backup.holdsData },
  };
}
