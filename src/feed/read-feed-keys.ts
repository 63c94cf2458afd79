/**
 * Where the feed's signing keys come from: a secret per role in the environment
 * (PINLINE_FEED_ROOT_KEY, …_TARGETS_KEY, …_SNAPSHOT_KEY, …_TIMESTAMP_KEY, PKCS#8 PEM), else
 * `<dir>/<role>.pem`; and how a new set is written (files readable by their owner only).
 *
 * Rotating the root key takes the old one too, for the one publication that signs the new root
 * with both: PINLINE_FEED_PREVIOUS_ROOT_KEY, else `<dir>/previous-root.pem`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import { generateFeedKeys } from "./keys.js";

export const FEED_KEY_ROLES = ["root", "targets", "snapshot", "timestamp"] as const;
export type FeedKeyRole = (typeof FEED_KEY_ROLES)[number];

export function feedKeyVariable(role: FeedKeyRole): string {
  return `PINLINE_FEED_${role.toUpperCase()}_KEY`;
}

export function readFeedKey(
  role: FeedKeyRole,
  dir: string | undefined,
  env: NodeJS.ProcessEnv,
): string {
  const fromEnv = env[feedKeyVariable(role)];
  if (fromEnv) return fromEnv;
  const file = dir ? join(dir, `${role}.pem`) : undefined;
  if (file && existsSync(file)) return readFileSync(file, "utf8");
  throw new UsageError(`no ${role} key for the feed`, {
    hint: `set ${feedKeyVariable(role)} (a secret) or pass --keys DIR holding ${role}.pem; pinline feed keys --out DIR makes a set`,
  });
}

/** The variable that holds the old root key while the root key is rotated. */
export const PREVIOUS_ROOT_KEY_VARIABLE = "PINLINE_FEED_PREVIOUS_ROOT_KEY";
export const PREVIOUS_ROOT_KEY_FILE = "previous-root.pem";

/** The old root key during a rotation, or undefined when none is given. */
export function readPreviousRootKey(
  dir: string | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const fromEnv = env[PREVIOUS_ROOT_KEY_VARIABLE];
  if (fromEnv?.trim()) return fromEnv;
  const file = dir ? join(dir, PREVIOUS_ROOT_KEY_FILE) : undefined;
  return file && existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

export function writeFeedKeys(dir: string): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = generateFeedKeys();
  return FEED_KEY_ROLES.map((role) => {
    const file = join(dir, `${role}.pem`);
    if (existsSync(file)) throw new UsageError(`${file} exists: pinline never overwrites a key`);
    writeFileSync(file, keys[role], { mode: 0o600, flag: "wx" });
    return file;
  });
}
