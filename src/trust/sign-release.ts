import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { readPrivateKey, readSignature } from "openpgp";
import { UsageError } from "../core/errors.js";
import { RELEASE_FILE, SIGNATURE_FILE } from "../repo/layout.js";
import { signBytes } from "./sign-manifest.js";

export interface SignedRelease {
  /** The signature file, relative to the repository root. */
  file: string;
  /** Who signed: the primary key's fingerprint and first user id. */
  signer: { fingerprint: string; userId: string | undefined };
  /** How many signatures the file now holds. */
  signatures: number;
}

/**
 * `pinline sign`: a detached, ASCII-armored signature over release.yaml's exact bytes, added to
 * release.yaml.asc (a second signer appends). The file is replaced in one rename, so a failed
 * run leaves the previous signatures as they were.
 */
export async function signRelease(input: {
  root: string;
  releaseDir: string;
  armoredPrivateKey: string;
  passphrase?: string;
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
    ...(existing !== undefined ? { existingSignature: existing } : {}),
    ...(input.now ? { now: input.now } : {}),
  });
  const temporary = `${target}.tmp-${process.pid}`;
  writeFileSync(temporary, armored);
  renameSync(temporary, target);
  const key = await readPrivateKey({ armoredKey: input.armoredPrivateKey });
  return {
    file: relative(input.root, target).split("\\").join("/"),
    signer: { fingerprint: key.getFingerprint().toUpperCase(), userId: key.getUserIDs()[0] },
    signatures: (await readSignature({ armoredSignature: armored })).packets.length,
  };
}
