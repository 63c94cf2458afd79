import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as openpgp from "openpgp";
import { InvalidValueError, RefusedError, UsageError } from "../core/errors.js";
import { checkSignerKey, describeKey, type KeyDescription } from "./key-policy.js";
import {
  assembleKeyring,
  describeKeyringProblem,
  type KeyringProblem,
  keyringErrors,
  loadKeyring,
  readKeyFile,
  type TrustedKey,
} from "./keyring.js";

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
  problems: KeyringProblem[];
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
  const key = await readOneKey(armored, input.file);
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

/**
 * The one public key of a file given to `keys add`, read whole: every block, with every
 * revocation certificate in it applied (so a revoked key is refused, not added). Refuses private
 * keys, unreadable blocks and files with no key or several.
 */
async function readOneKey(armored: string, file: string): Promise<openpgp.PublicKey> {
  const contents = await readKeyFile(armored);
  if (contents.privateKeyAt !== undefined) {
    throw new RefusedError(
      `${file}:${contents.privateKeyAt} holds a PRIVATE key: keys/ holds public keys only`,
      { hint: "export the public half: gpg --armor --export <fingerprint>" },
    );
  }
  const { keys, problems } = await assembleKeyring([{ file, contents }]);
  const [error] = keyringErrors(problems);
  if (error) throw new InvalidValueError(describeKeyringProblem(error));
  if (keys.length !== 1) {
    throw new RefusedError(`${file} holds ${keys.length} keys: add one signer's key at a time`);
  }
  return (keys[0] as TrustedKey).key;
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
