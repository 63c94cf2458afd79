import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { readPrivateKey, readSignature } from "openpgp";
import { UsageError } from "../core/errors.js";
import { RELEASE_FILE, SIGNATURE_FILE } from "../repo/layout.js";
import { checkSignerKey } from "./key-policy.js";
import { loadKeyring } from "./keyring.js";
import { type KeySource, signBytes } from "./sign-manifest.js";

export interface SignedRelease {
  /** The signature file, relative to the repository root. */
  file: string;
  /** Who signed: the primary key's fingerprint and first user id. */
  signer: { fingerprint: string; userId: string | undefined };
  /** How many signatures the file now holds. */
  signatures: number;
  /**
   * Why this signature will not count for `pinline verify` as keys/ stands, one sentence each:
   * the signer's key is not in keys/, or keys/ has it revoked or expired. The file is signed
   * all the same.
   */
  warnings: string[];
}

/**
 * `pinline sign`: a detached, ASCII-armored signature over release.yaml's exact bytes, added to
 * release.yaml.asc (a second signer appends). The file is replaced in one rename, so a failed
 * run leaves the previous signatures as they were. A key that keys/ does not trust still signs,
 * with a warning: the signature counts once the key is added.
 */
export async function signRelease(input: {
  root: string;
  releaseDir: string;
  armoredPrivateKey: string;
  passphrase?: string;
  /** Where the key and its passphrase come from, for the messages about an encrypted key. */
  keySource?: KeySource;
  now?: Date;
}): Promise<SignedRelease> {
  const dir = resolve(input.releaseDir);
  const manifest = join(dir, RELEASE_FILE);
  if (!existsSync(manifest)) {
    throw new UsageError(`${relative(input.root, manifest)} does not exist`, {
      hint: "pass a release folder, such as releases/2.4.1",
    });
  }
  const target = join(dir, SIGNATURE_FILE);
  const existing = existsSync(target) ? readFileSync(target, "utf8") : undefined;
  const armored = await signBytes({
    bytes: readFileSync(manifest),
    armoredPrivateKey: input.armoredPrivateKey,
    ...(input.passphrase !== undefined ? { passphrase: input.passphrase } : {}),
    ...(input.keySource ? { keySource: input.keySource } : {}),
    ...(existing !== undefined ? { existingSignature: existing } : {}),
    ...(input.now ? { now: input.now } : {}),
  });
  const temporary = `${target}.tmp-${process.pid}`;
  writeFileSync(temporary, armored);
  renameSync(temporary, target);
  const key = await readPrivateKey({ armoredKey: input.armoredPrivateKey });
  const signer = { fingerprint: key.getFingerprint().toUpperCase(), userId: key.getUserIDs()[0] };
  return {
    file: relative(input.root, target).split("\\").join("/"),
    signer,
    signatures: (await readSignature({ armoredSignature: armored })).packets.length,
    warnings: await trustWarnings(input.root, signer.fingerprint, input.now ?? new Date()),
  };
}

/** Why keys/ will not count a signature by `fingerprint` made at `now`, if it will not. */
async function trustWarnings(root: string, fingerprint: string, now: Date): Promise<string[]> {
  const { keys } = await loadKeyring(join(root, "keys"));
  const trusted = keys.find((k) => k.fingerprint === fingerprint);
  if (!trusted) {
    return [
      `key ${fingerprint} is not in keys/: this signature will not count until the key is trusted (pinline keys add <its public key file>, merged through a reviewed pull request)`,
    ];
  }
  const problem = await checkSignerKey(trusted.key, now);
  return problem
    ? [
        `key ${fingerprint}, as ${trusted.file} holds it, cannot sign: ${problem}; this signature will not count`,
      ]
    : [];
}
