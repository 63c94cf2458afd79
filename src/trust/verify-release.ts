import { existsSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { policyAllowsVersion } from "../core/channels.js";
import { PinlineError, RefusedError, UsageError } from "../core/errors.js";
import type { Policy, ReleaseManifest } from "../core/schema-types.js";
import { parseVersion } from "../core/version.js";
import type { Finding } from "../repo/findings.js";
import { RELEASE_FILE, ROLLOUT_FILE, SIGNATURE_FILE } from "../repo/layout.js";
import { ymlNotRead } from "../repo/load-tree.js";
import { parseYaml } from "../repo/parse-yaml.js";
import { readDocument } from "../repo/read-document.js";
import { IrregularFileError, readRegularFile } from "../repo/read-regular-file.js";
import { refuseBrokenGovernance } from "../repo/require-sound-governance.js";
import { shippedFileDigest } from "../repo/shipped-file-digest.js";
import { fetchArtifacts } from "./fetch-artifacts.js";
import {
  describeKeyringProblem,
  type Keyring,
  type KeyringProblem,
  keyringErrors,
  loadKeyring,
} from "./keyring.js";
import { type ArtifactVerdict, verifyArtifacts } from "./verify-artifacts.js";
import { type VerifyResult, verifyBytes } from "./verify-manifest.js";

export interface ShippedFileVerdict {
  /** Relative to the release folder: "migrations/2.4.0-2.4.1.sql". */
  file: string;
  /** The sha256 the signed manifest lists. */
  sha256: string;
  verdict: "valid" | "invalid";
  /** "matches" when valid, else why not ("differs: the file hashes to …", "does not exist"). */
  reason: string;
}

export interface ReleaseVerification {
  /** The manifest, relative to the repository root. */
  file: string;
  version: string;
  /** Where the threshold comes from: the strictest policy that can deploy the release. */
  thresholdFrom: string;
  signatures: VerifyResult;
  /** Every migration and rollback file the manifest lists, checked against its sha256. */
  files: ShippedFileVerdict[];
  /** Present when artifacts were checked. */
  artifacts?: ArtifactVerdict[];
  /** Keys in keys/ that could not be used, and why. */
  keyProblems: KeyringProblem[];
  ok: boolean;
  /** One sentence: why it passed, or the first reason it did not (without the file name). */
  summary: string;
  /** The manifest as parsed from the bytes the signatures were checked over. */
  manifest: ReleaseManifest;
}

/**
 * `pinline verify`: the release's manifest must carry valid signatures from at least the
 * threshold of distinct trusted keys in keys/, and, with an artifacts folder, every component
 * must match its size and sha256. Throws UsageError when the folder is not a release.
 */
export async function verifyRelease(input: {
  root: string;
  releaseDir: string;
  artifactsDir?: string;
  /** Download the components published at https URLs and check them (without artifactsDir). */
  fetch?: boolean;
  now?: Date;
  /** keys/ and the policies, when the caller verifies several releases (read once). */
  trust?: Promise<RepositoryTrust>;
}): Promise<ReleaseVerification> {
  const now = input.now ?? new Date();
  const dir = resolve(input.releaseDir);
  const file = relative(input.root, join(dir, RELEASE_FILE)).split("\\").join("/");
  const bytes = readShipped(join(dir, RELEASE_FILE), file);
  if (!bytes) {
    throw new UsageError(`${file} does not exist`, {
      hint: "pass a release folder, such as releases/2.4.1",
    });
  }
  const manifest = readManifest(bytes, file);
  const signature = readShipped(join(dir, SIGNATURE_FILE), `${file}.asc`);
  if (!signature) {
    throw new RefusedError(`is not signed: ${file}.asc does not exist`, {
      where: { file },
      hint: `sign it: pinline sign ${relative(process.cwd(), dir) || "."} --key <private key file>`,
    });
  }
  const trust = await (input.trust ?? readRepositoryTrust(input.root));
  const { threshold, from } = thresholdFor(trust.policies, manifest);
  const { keys, problems } = trust.keyring;
  let signatures: VerifyResult;
  try {
    signatures = await verifyBytes({
      bytes,
      armoredSignature: signature.toString("utf8"),
      keyring: keys,
      threshold,
      now,
    });
  } catch (error) {
    if (error instanceof PinlineError) {
      throw new RefusedError(error.message, { where: { file: `${file}.asc` }, cause: error });
    }
    throw error;
  }
  const files = signatures.ok ? verifyShippedFiles(dir, manifest) : [];
  const artifacts = input.artifactsDir
    ? await verifyArtifacts({ manifest, artifactsDir: resolve(input.artifactsDir) })
    : input.fetch
      ? await fetchArtifacts({ manifest })
      : undefined;
  const badArtifact = artifacts?.find(
    (a) =>
      a.verdict === "invalid" ||
      (a.verdict === "missing" && manifest.components[a.component]?.required !== false),
  );
  const badFile = files.find((f) => f.verdict === "invalid");
  // keys/ holding a private key, a block that does not parse or a stray revocation is not the
  // keyring its reviewers approved: nothing verifies against it (fail closed).
  const [keyError] = keyringErrors(problems);
  const ok = !keyError && signatures.ok && badFile === undefined && badArtifact === undefined;
  const summary = keyError
    ? `keys/ cannot be trusted as it stands: ${describeKeyringProblem(keyError)}`
    : !signatures.ok
      ? signatures.reason
      : badFile
        ? `${badFile.file} ${badFile.reason}: what the signed manifest lists is not what would run`
        : badArtifact
          ? `component ${badArtifact.component} (${badArtifact.path}): ${badArtifact.reason}`
          : [
              signatures.reason,
              ...(files.length > 0 ? [describeFiles(files)] : []),
              ...(artifacts ? [describeArtifacts(artifacts)] : []),
            ].join("; ");
  return {
    file,
    version: manifest.version,
    thresholdFrom: from,
    signatures,
    files,
    ...(artifacts ? { artifacts } : {}),
    keyProblems: problems,
    ok,
    summary,
    manifest,
  };
}

/**
 * What the migration runner asks before it runs a release's files: the release must verify
 * (signatures, threshold, file hashes), and the sha256 of each file in its verified manifest.
 * Throws RefusedError naming the release and the reason.
 */
export function releaseVerifier(
  root: string,
  now?: Date,
): (folder: string) => Promise<ReadonlyMap<string, string>> {
  let trust: Promise<RepositoryTrust> | undefined; // read on the first release, then shared
  return async (folder) => {
    if (!trust) {
      trust = readRepositoryTrust(root);
      trust.catch(() => {}); // awaited where it was read before; never an unhandled rejection
    }
    const result = await verifyRelease({
      root,
      releaseDir: join(root, "releases", folder),
      trust,
      ...(now ? { now } : {}),
    });
    if (!result.ok) {
      throw new RefusedError(`release ${result.version} does not verify: ${result.summary}`, {
        where: { file: result.file },
        hint: `nothing was run; see pinline verify releases/${folder}`,
      });
    }
    const database = result.manifest.database;
    return new Map(
      [...(database?.migrations ?? []), ...(database?.rollback ?? [])].map((e) => [
        e.file,
        e.sha256.toLowerCase(),
      ]),
    );
  };
}

/**
 * Each migration and rollback file against the sha256 the signed manifest lists: read only as
 * a regular file in the release folder (a link, FIFO or device is invalid and never read).
 */
export function verifyShippedFiles(dir: string, manifest: ReleaseManifest): ShippedFileVerdict[] {
  const entries = [
    ...(manifest.database?.migrations ?? []),
    ...(manifest.database?.rollback ?? []),
  ];
  return entries.map(({ file, sha256 }): ShippedFileVerdict => {
    const verdict = (ok: boolean, reason: string): ShippedFileVerdict => ({
      file,
      sha256,
      verdict: ok ? "valid" : "invalid",
      reason,
    });
    if (typeof file !== "string" || !SHIPPED_PATH.test(file)) {
      return verdict(false, "is not a path in migrations/ or rollback/");
    }
    let bytes: Buffer | undefined;
    try {
      bytes = readRegularFile(join(dir, file));
    } catch (error) {
      if (error instanceof IrregularFileError)
        return verdict(false, `is ${error.kind}, not a regular file`);
      throw error;
    }
    if (bytes === undefined) return verdict(false, "does not exist");
    const digest = shippedFileDigest(bytes);
    return digest === String(sha256).toLowerCase()
      ? verdict(true, "matches")
      : verdict(
          false,
          `differs: the manifest lists sha256 ${sha256}, the file hashes to ${digest}`,
        );
  });
}

const SHIPPED_PATH = /^(migrations|rollback)\/[^/\\]+\.sql$/;

function describeFiles(files: readonly ShippedFileVerdict[]): string {
  return `${files.length} SQL file${files.length === 1 ? "" : "s"} match${files.length === 1 ? "es" : ""} the manifest`;
}

/** A regular file's bytes, undefined when missing; a link, FIFO or device is refused unread. */
function readShipped(path: string, file: string): Buffer | undefined {
  try {
    return readRegularFile(path);
  } catch (error) {
    if (error instanceof IrregularFileError) {
      throw new RefusedError(`is ${error.kind}, not a regular file: pinline never reads it`, {
        where: { file },
        hint: "commit the file itself",
      });
    }
    throw error;
  }
}

function describeArtifacts(artifacts: readonly ArtifactVerdict[]): string {
  const valid = artifacts.filter((a) => a.verdict === "valid").length;
  const unchecked = artifacts.filter((a) => a.verdict === "unchecked").length;
  const missing = artifacts.filter((a) => a.verdict === "missing").length;
  return [
    `${valid} artifact${valid === 1 ? "" : "s"} match`,
    ...(unchecked > 0 ? [`${unchecked} not checked`] : []),
    ...(missing > 0 ? [`${missing} optional missing`] : []),
  ].join(", ");
}

function readManifest(bytes: Buffer, file: string): ReleaseManifest {
  const parsed = parseYaml(bytes.toString("utf8"), file);
  const value = parsed.yaml?.value as ReleaseManifest | undefined;
  if (!value || typeof value.version !== "string" || typeof value.components !== "object") {
    const first = parsed.findings[0];
    throw new RefusedError(
      `is not a readable release manifest${first ? `: ${first.message}` : ""}`,
      {
        where: first ?? { file },
        hint: "run pinline validate",
      },
    );
  }
  return value;
}

/** What every verification in one repository judges with: keys/ and the policies. */
export interface RepositoryTrust {
  keyring: Keyring;
  policies: { file: string; value: Policy }[];
}

/** Reads keys/ and the policies once, for the verifications of one run. */
export async function readRepositoryTrust(root: string): Promise<RepositoryTrust> {
  const policies = readPolicies(root);
  const keyring = await loadKeyring(join(root, "keys"), (path) =>
    relative(root, path).split("\\").join("/"),
  );
  return { keyring, policies };
}

/**
 * The threshold is the strictest `signatures.threshold` among the policies whose allowed
 * channels receive this release — wherever it may be deployed, it must satisfy that policy.
 */
function thresholdFor(
  policies: RepositoryTrust["policies"],
  manifest: ReleaseManifest,
): { threshold: number; from: string } {
  const version = parseVersion(manifest.version);
  let threshold = 1;
  let from = "the default";
  for (const policy of policies) {
    const data = policy.value;
    if (!data?.signatures?.threshold) continue;
    if (policyAllowsVersion(data, version) && data.signatures.threshold > threshold) {
      threshold = data.signatures.threshold;
      from = policy.file;
    }
  }
  return { threshold, from };
}

/**
 * Every policy, each passing its schema: one that does not parse, fails its schema or is not
 * read at all (a .yml file) refuses the verification — a threshold must never come from the
 * policies that happen to be readable.
 */
function readPolicies(root: string): { file: string; value: Policy }[] {
  const dir = join(root, "policies");
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir).filter((name) => `policies/${name}` !== ROLLOUT_FILE);
  const findings: Finding[] = names
    .filter((name) => name.endsWith(".yml"))
    .map((name) => ymlNotRead(`policies/${name}`));
  const records = names
    .filter((name) => name.endsWith(".yaml"))
    .map((name) => readDocument(root, "policy", `policies/${name}`));
  for (const record of records) findings.push(...record.findings);
  refuseBrokenGovernance(findings, "verify");
  return records.map((record) => ({ file: record.file, value: record.value as Policy }));
}
