/**
 * The signature facts the gate's signatures rule judges: which trusted keys (keys/ on the base
 * branch) validly signed releases/<version>/release.yaml, and why other signatures did not count.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { PinlineError } from "../core/errors.js";
import type { SignatureFacts } from "../core/gates/gate-input.js";
import type { ReleaseManifest } from "../core/schema-types.js";
import { RELEASE_FILE, SIGNATURE_FILE } from "../repo/layout.js";
import { parseYaml } from "../repo/parse-yaml.js";
import { describeKeyringProblem, keyringErrors, loadKeyring } from "../trust/keyring.js";
import { verifyBytes } from "../trust/verify-manifest.js";
import { verifyShippedFiles } from "../trust/verify-release.js";

/** "Name (comment) <mail>" → "mail": short enough for a table cell, still unambiguous. */
function shortUserId(userId: string | undefined): string | undefined {
  return userId ? (/<([^>]+)>/.exec(userId)?.[1] ?? userId) : undefined;
}

/**
 * The files the manifest lists whose bytes differ from its sha256: a signature over such a
 * manifest does not cover what would run, so it counts for nothing.
 */
function differingFiles(dir: string, bytes: Buffer, folder: string): string[] {
  const manifest = parseYaml(bytes.toString("utf8"), `${folder}/${RELEASE_FILE}`).yaml?.value as
    | ReleaseManifest
    | undefined;
  if (!manifest || typeof manifest !== "object")
    return [`${folder}/${RELEASE_FILE} cannot be read`];
  const database = manifest.database;
  if (database && (!Array.isArray(database.migrations) || !Array.isArray(database.rollback))) {
    return [`${folder}/${RELEASE_FILE} lists its SQL files in a form pinline cannot check`];
  }
  return verifyShippedFiles(dir, manifest)
    .filter((f) => f.verdict === "invalid")
    .map((f) => `${folder}/${f.file} ${f.reason}: the signatures do not cover what would run`);
}

export async function readSignatureFacts(input: {
  root: string;
  /** The release folder, relative to the root ("releases/2.4.1"). */
  folder: string;
  now: Date;
}): Promise<SignatureFacts> {
  const manifest = join(input.root, input.folder, RELEASE_FILE);
  const signature = join(input.root, input.folder, SIGNATURE_FILE);
  if (!existsSync(signature)) {
    return { validSigners: [], problems: [`${input.folder}/${SIGNATURE_FILE} does not exist`] };
  }
  const { keys, problems } = await loadKeyring(join(input.root, "keys"), (path) =>
    relative(input.root, path).split("\\").join("/"),
  );
  const keyErrors = keyringErrors(problems);
  if (keyErrors.length > 0) {
    // keys/ on the base branch is not sound: no signature counts against it (fail closed).
    return { validSigners: [], problems: keyErrors.map(describeKeyringProblem) };
  }
  try {
    const bytes = readFileSync(manifest);
    const shipped = differingFiles(join(input.root, input.folder), bytes, input.folder);
    if (shipped.length > 0) return { validSigners: [], problems: shipped };
    const result = await verifyBytes({
      bytes,
      armoredSignature: readFileSync(signature, "utf8"),
      keyring: keys,
      threshold: 1,
      now: input.now,
    });
    const validSigners = result.validKeys.map((fingerprint) => ({
      fingerprint,
      userId: shortUserId(
        result.signatures.find((s) => s.keyFingerprint === fingerprint && s.verdict === "valid")
          ?.userId,
      ),
    }));
    const invalid = result.signatures
      .filter((s) => s.verdict === "invalid")
      .map((s) => `${s.userId ?? s.keyFingerprint ?? s.signingKeyId}: ${s.reason}`);
    return {
      validSigners,
      problems: [...invalid, ...problems.map(describeKeyringProblem)],
    };
  } catch (error) {
    if (error instanceof PinlineError) {
      return {
        validSigners: [],
        problems: [`${input.folder}/${SIGNATURE_FILE}: ${error.message}`],
      };
    }
    throw error;
  }
}
