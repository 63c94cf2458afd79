import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { InvalidValueError, RefusedError, UsageError } from "../core/errors.js";
import { checkSignerKey, describeKey, type KeyDescription } from "./key-policy.js";
import { loadKeyring } from "./keyring.js";

export interface ListedKey extends KeyDescription {
  file: string;
  /** Why the key cannot be trusted to sign today, if it cannot. */
  problem: string | undefined;
}

/** `pinline keys list`: every key in keys/, and whether it can sign now. */
export async function listKeys(
  root: string,
  now: Date = new Date(),
): Promise<{
  keys: ListedKey[];
  problems: { file: string; reason: string }[];
}> {
  const keyring = await loadKeyring(join(root, "keys"));
  const keys: ListedKey[] = [];
  for (const trusted of keyring.keys) {
    keys.push({
      ...(await describeKey(trusted.key)),
      file: trusted.file,
      problem: await checkSignerKey(trusted.key, now),
    });
  }
  return { keys, problems: keyring.problems };
}

/**
 * `pinline keys add`: validates a public key and writes it to keys/<name>.asc. Refuses private
 * keys, weak algorithms, expired and revoked keys. Adding a key that is already there changes
 * nothing.
 */
export async function addKey(input: { root: string; file: string; now?: Date }): Promise<{
  added: boolean;
  file: string;
  key: KeyDescription;
}> {
  const now = input.now ?? new Date();
  let armored: string;
  try {
    armored = readFileSync(input.file, "utf8");
  } catch (cause) {
    throw new UsageError(`cannot read ${input.file}: ${(cause as Error).message}`);
  }
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(armored)) {
    throw new RefusedError(`${input.file} holds a PRIVATE key: keys/ holds public keys only`, {
      hint: "export the public half: gpg --armor --export <fingerprint>",
    });
  }
  let keys: openpgp.Key[];
  try {
    keys = await openpgp.readKeys({ armoredKeys: armored });
  } catch (cause) {
    throw new InvalidValueError(
      `${input.file} is not an ASCII-armored OpenPGP public key: ${(cause as Error).message}`,
    );
  }
  if (keys.length !== 1) {
    throw new RefusedError(
      `${input.file} holds ${keys.length} keys: add one signer's key at a time`,
    );
  }
  const key = keys[0] as openpgp.PublicKey;
  const description = await describeKey(key);
  const problem = await checkSignerKey(key, now);
  if (problem) {
    throw new RefusedError(
      `refused ${description.fingerprint} (${description.userIds[0] ?? "no user id"}): ${problem}`,
    );
  }
  const existing = await loadKeyring(join(input.root, "keys"));
  const same = existing.keys.find((k) => k.fingerprint === description.fingerprint);
  if (same) return { added: false, file: same.file, key: description };

  const dir = join(input.root, "keys");
  mkdirSync(dir, { recursive: true });
  const name = `${fileStem(description)}.asc`;
  const target = join(dir, name);
  if (existsSync(target)) {
    throw new RefusedError(`keys/${name} already exists and holds another key`, {
      hint: "rename one of them",
    });
  }
  const temporary = `${target}.tmp-${process.pid}`;
  writeFileSync(temporary, key.armor());
  renameSync(temporary, target);
  return { added: true, file: `keys/${name}`, key: description };
}

/** "alice-1d01c253" from alice@example.com and the fingerprint's last 8 digits. */
function fileStem(key: KeyDescription): string {
  const email = /<([^@>]+)@/.exec(key.userIds[0] ?? "")?.[1];
  const who = (email ?? "key")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${who || "key"}-${key.fingerprint.slice(-8).toLowerCase()}`;
}
