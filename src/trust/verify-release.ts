import { existsSync, readdirSync, readFileSync } from "node:fs";
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
import { refuseBrokenGovernance } from "../repo/require-sound-governance.js";
import { fetchArtifacts } from "./fetch-artifacts.js";
import { loadKeyring } from "./keyring.js";
import { type ArtifactVerdict, verifyArtifacts } from "./verify-artifacts.js";
import { type VerifyResult, verifyBytes } from "./verify-manifest.js";

export interface ReleaseVerification {
  /** The manifest, relative to the repository root. */
  file: string;
  version: string;
  /** Where the threshold comes from: the strictest policy that can deploy the release. */
  thresholdFrom: string;
  signatures: VerifyResult;
  /** Present when artifacts were checked. */
  artifacts?: ArtifactVerdict[];
  /** Keys in keys/ that could not be used, and why. */
  keyProblems: { file: string; reason: string }[];
  ok: boolean;
  /** One sentence: why it passed, or the first reason it did not (without the file name). */
  summary: string;
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
}): Promise<ReleaseVerification> {
  const now = input.now ?? new Date();
  const dir = resolve(input.releaseDir);
  const file = relative(input.root, join(dir, RELEASE_FILE)).split("\\").join("/");
  const manifestPath = join(dir, RELEASE_FILE);
  if (!existsSync(manifestPath)) {
    throw new UsageError(`${file} does not exist`, {
      hint: "pass a release folder, such as releases/2.4.1",
    });
  }
  const bytes = readFileSync(manifestPath);
  const manifest = readManifest(bytes, file);
  const signaturePath = join(dir, SIGNATURE_FILE);
  if (!existsSync(signaturePath)) {
    throw new RefusedError(`is not signed: ${file}.asc does not exist`, {
      where: { file },
      hint: `sign it: pinline sign ${relative(process.cwd(), dir) || "."} --key <private key file>`,
    });
  }
  const { threshold, from } = await thresholdFor(input.root, manifest);
  const { keys, problems } = await loadKeyring(join(input.root, "keys"), (path) =>
    relative(input.root, path).split("\\").join("/"),
  );
  let signatures: VerifyResult;
  try {
    signatures = await verifyBytes({
      bytes,
      armoredSignature: readFileSync(signaturePath, "utf8"),
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
  const ok = signatures.ok && badArtifact === undefined;
  const summary = !signatures.ok
    ? signatures.reason
    : badArtifact
      ? `component ${badArtifact.component} (${badArtifact.path}): ${badArtifact.reason}`
      : `${signatures.reason}${artifacts ? `; ${describeArtifacts(artifacts)}` : ""}`;
  return {
    file,
    version: manifest.version,
    thresholdFrom: from,
    signatures,
    ...(artifacts ? { artifacts } : {}),
    keyProblems: problems,
    ok,
    summary,
  };
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

/**
 * The threshold is the strictest `signatures.threshold` among the policies whose allowed
 * channels receive this release — wherever it may be deployed, it must satisfy that policy.
 */
async function thresholdFor(
  root: string,
  manifest: ReleaseManifest,
): Promise<{ threshold: number; from: string }> {
  const version = parseVersion(manifest.version);
  let threshold = 1;
  let from = "the default";
  for (const policy of readPolicies(root)) {
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
