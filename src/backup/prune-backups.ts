/**
 * Retention: a backup folder keeps the newest `keep` backups of each environment (the policy's
 * rollback.keepVersions). Only backups pinline wrote are touched — those with a sidecar naming
 * the environment — and only after the new one is complete. Each goes file first, sidecar last:
 * an interrupted prune leaves a sidecar whose file is gone, which the next prune removes. The
 * half-written temporary files of a backup whose process died (write-whole-file.ts names them
 * `.<file>.partial-<pid>-<random>`) go too.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type BackupMetadata, SIDECAR_SUFFIX } from "./backup-metadata.js";

export interface StoredBackup {
  file: string;
  takenAt: string;
}

/** The environment's backups in `dir`, newest first. */
export function listBackups(dir: string, environment: string): StoredBackup[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: StoredBackup[] = [];
  for (const name of names) {
    if (!name.endsWith(SIDECAR_SUFFIX) || name.startsWith(".")) continue;
    let metadata: Partial<BackupMetadata>;
    try {
      metadata = JSON.parse(readFileSync(join(dir, name), "utf8"));
    } catch {
      continue; // not pinline's
    }
    if (metadata.format !== "pinline-backup" || metadata.environment !== environment) continue;
    if (typeof metadata.takenAt !== "string") continue;
    found.push({
      file: join(dir, name.slice(0, -SIDECAR_SUFFIX.length)),
      takenAt: metadata.takenAt,
    });
  }
  return found.sort((a, b) =>
    a.takenAt === b.takenAt ? (a.file < b.file ? 1 : -1) : a.takenAt < b.takenAt ? 1 : -1,
  );
}

const PARTIAL = /^\.(.+)\.partial-(\d+)-[0-9a-f]{8}$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The environment's temporary backup files whose writer is gone (a crash mid-backup). */
function abandonedPartials(dir: string, environment: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => {
      const match = PARTIAL.exec(name);
      return match?.[1]?.startsWith(`${environment}-`) === true && !isAlive(Number(match[2]));
    })
    .map((name) => join(dir, name));
}

/**
 * Deletes all but the newest `keep` backups of `environment`, and its abandoned temporary
 * files; returns the backups deleted.
 */
export function pruneBackups(dir: string, environment: string, keep: number): string[] {
  for (const partial of abandonedPartials(dir, environment)) rmSync(partial, { force: true });
  const removed: string[] = [];
  for (const backup of listBackups(dir, environment).slice(Math.max(1, keep))) {
    rmSync(backup.file, { force: true });
    rmSync(`${backup.file}${SIDECAR_SUFFIX}`, { force: true });
    removed.push(backup.file);
  }
  return removed;
}
