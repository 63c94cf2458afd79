/**
 * The trusted keys: every public key in keys/*.asc, and nothing else (DESIGN §6). A file that
 * cannot be used is reported as a problem and contributes no key; the rest still load.
 */
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import * as openpgp from "openpgp";
import { ANY_TIME, TRUST_CONFIG, TRUST_FULL_CONFIG } from "./key-policy.js";

export interface TrustedKey {
  /** The file it came from, as labelled by loadKeyring's caller (the first, if several). */
  file: string;
  key: openpgp.PublicKey;
  /** The primary key's fingerprint, uppercase hex. */
  fingerprint: string;
}

export interface KeyringProblem {
  file: string;
  /** Without the file name: "holds a PRIVATE key: only public keys belong in keys/". */
  reason: string;
}

export interface Keyring {
  keys: TrustedKey[];
  problems: KeyringProblem[];
}

/**
 * When two files hold the same key, their signatures are merged (so a revocation in either one
 * counts). Every cryptographically valid signature is kept; the policy is applied when the key
 * is used, not here.
 */
const MERGE_CONFIG: openpgp.Config = {
  ...TRUST_FULL_CONFIG,
  rejectHashAlgorithms: new Set(),
  rejectMessageHashAlgorithms: new Set(),
};

/**
 * Reads every `*.asc` in `keysDir` (in name order; a missing folder holds no keys). A file may
 * hold several public keys; the same key in two files is one key.
 */
export async function loadKeyring(
  keysDir: string,
  fileLabel: (absolutePath: string) => string = (path) => `${basename(keysDir)}/${basename(path)}`,
): Promise<Keyring> {
  const names = await listArmoredFiles(keysDir);
  const folder = `${basename(keysDir)}/`;
  const byFingerprint = new Map<string, TrustedKey>();
  const problems: KeyringProblem[] = [];
  for (const name of names) {
    const path = join(keysDir, name);
    const file = fileLabel(path);
    const armored = await readFile(path, "utf8");
    if (armored.trim() === "") {
      problems.push({ file, reason: "is empty: it should hold an ASCII-armored public key" });
      continue;
    }
    let keys: openpgp.Key[];
    try {
      keys = await openpgp.readKeys({ armoredKeys: armored, config: TRUST_CONFIG });
    } catch (error) {
      problems.push({
        file,
        reason: `is not a readable OpenPGP public key: ${(error as Error).message}`,
      });
      continue;
    }
    if (keys.some((key) => key.isPrivate())) {
      problems.push({
        file,
        reason: `holds a PRIVATE key: only public keys belong in ${folder} (export the public half with gpg --armor --export <fingerprint>, and treat the private key as leaked)`,
      });
      continue;
    }
    for (const key of keys) {
      const fingerprint = key.getFingerprint().toUpperCase();
      const known = byFingerprint.get(fingerprint);
      if (known) {
        known.key = await known.key.update(key, ANY_TIME, MERGE_CONFIG);
      } else {
        byFingerprint.set(fingerprint, { file, key, fingerprint });
      }
    }
  }
  return { keys: [...byFingerprint.values()], problems };
}

async function listArmoredFiles(keysDir: string): Promise<string[]> {
  try {
    const entries = await readdir(keysDir, { withFileTypes: true });
    return entries
      .filter((entry) => !entry.isDirectory() && entry.name.endsWith(".asc"))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}
