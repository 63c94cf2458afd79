/**
 * A manifest counts only with a threshold of valid signatures from distinct primary keys in
 * keys/ (DESIGN §6). openpgp checks the cryptography and the key's validity when the signature
 * was made; pinline adds what openpgp does not decide the way DESIGN §6 wants, and says why in
 * words:
 *
 * - only keys passed in the keyring are trusted; each PRIMARY key counts once;
 * - only binary signatures: a text-mode signature would ignore a CRLF conversion;
 * - a signature dated more than MAX_CLOCK_SKEW_MS after `now` is refused;
 * - hard revocations void every signature, soft ones (superseded, retired) only those made from
 *   their date, read from the revocation signatures themselves — the primary key's and the
 *   signing subkey's;
 * - a subkey that had expired, or was not yet created, when the signature was made is named
 *   with its dates;
 * - MD5/RIPEMD-160/SHA-1 hashes, DSA, ElGamal and RSA under 2048 bits are refused.
 *
 * A signature is valid only when both openpgp and these checks accept it.
 */
import * as openpgp from "openpgp";
import { InvalidValueError } from "../core/errors.js";
import {
  findKeyProblem,
  findSubkeyProblem,
  formatInstant,
  hexId,
  type KeyProblem,
  TRUST_CONFIG,
  TRUST_FULL_CONFIG,
} from "./key-policy.js";
import type { TrustedKey } from "./keyring.js";

const { enums } = openpgp;

/**
 * How far a signature may be dated after `now`: signers' clocks drift, and a signature made a
 * minute "in the future" by a laptop should not fail in CI. Anything beyond is refused.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface SignatureVerdict {
  /** The PRIMARY key's fingerprint (uppercase hex) when the signer is in the keyring. */
  keyFingerprint: string | undefined;
  /** The key id named by the signature packet (a subkey's, when a subkey signed). */
  signingKeyId: string;
  userId: string | undefined;
  created: Date | undefined;
  verdict: "valid" | "invalid";
  /** "good signature" when valid, else why not. */
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  threshold: number;
  /** Distinct primary fingerprints with at least one valid signature. */
  validKeys: string[];
  signatures: SignatureVerdict[];
  /** One sentence: "2 of 2 required signatures from distinct trusted keys", or why not. */
  reason: string;
}

const TAMPERED =
  "the signature does not match the manifest's bytes: the file changed after it was signed (a changed byte, a CRLF conversion or an added newline all count)";

const SIGNATURE_BLOCK = /-----BEGIN PGP SIGNATURE-----[\s\S]*?-----END PGP SIGNATURE-----/g;

/**
 * Verifies a detached signature file over `bytes`, exactly as they are. Throws InvalidValueError
 * when the signature file cannot be read (the caller adds the file name) or the threshold is
 * not a whole number of at least 1.
 */
export async function verifyBytes(input: {
  bytes: Uint8Array;
  armoredSignature: string;
  keyring: readonly TrustedKey[];
  threshold: number;
  now?: Date;
}): Promise<VerifyResult> {
  const { bytes, keyring, threshold, now = new Date() } = input;
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new InvalidValueError(
      `the signature threshold must be a whole number of at least 1, not ${threshold}`,
    );
  }
  const signature = await readDetachedSignature(input.armoredSignature);
  const signatures: SignatureVerdict[] = [];
  for (const packet of signature.packets) {
    signatures.push(await judge(packet, bytes, keyring, now));
  }
  const validKeys = [
    ...new Set(
      signatures.flatMap((s) =>
        s.verdict === "valid" && s.keyFingerprint ? [s.keyFingerprint] : [],
      ),
    ),
  ];
  return {
    ok: validKeys.length >= threshold,
    threshold,
    validKeys,
    signatures,
    reason: summarize(signatures, validKeys.length, threshold),
  };
}

/**
 * Reads an armored detached signature file: one block, or several concatenated blocks (as
 * `cat a.asc b.asc` makes), holding only signature packets. Throws InvalidValueError otherwise.
 */
export async function readDetachedSignature(armored: string): Promise<openpgp.Signature> {
  if (armored.trim() === "") {
    throw new InvalidValueError("the signature file is empty", {
      hint: "it should hold an ASCII-armored detached signature (-----BEGIN PGP SIGNATURE-----)",
    });
  }
  const blocks = armored.match(SIGNATURE_BLOCK) ?? [];
  const packets = new openpgp.PacketList<openpgp.SignaturePacket>();
  for (const block of blocks.length > 1 ? blocks : [armored]) {
    packets.push(...(await readBlock(block)).packets);
  }
  const unreadable = packets.filter((packet) => !(packet instanceof openpgp.SignaturePacket));
  if (unreadable.length > 0) {
    throw new InvalidValueError(
      `${unreadable.length} of its ${packets.length} packets are not signatures openpgp can read (unsupported version?)`,
    );
  }
  if (packets.length === 0) throw new InvalidValueError("it holds no signature");
  return new openpgp.Signature(packets);
}

async function readBlock(armored: string): Promise<openpgp.Signature> {
  try {
    return await openpgp.readSignature({ armoredSignature: armored, config: TRUST_CONFIG });
  } catch (error) {
    throw new InvalidValueError(await describeUnreadable(armored, error as Error), {
      cause: error,
      hint: "it should hold an ASCII-armored detached signature (-----BEGIN PGP SIGNATURE-----)",
    });
  }
}

const ARMOR_CONTENTS: Partial<Record<openpgp.enums.armor, string>> = {
  [enums.armor.publicKey]: "a public key",
  [enums.armor.privateKey]:
    "a PRIVATE key (remove it from the repository and treat the key as leaked)",
  [enums.armor.signed]: "a cleartext-signed message",
  [enums.armor.message]: "an OpenPGP message",
};

async function describeUnreadable(armored: string, error: Error): Promise<string> {
  if (/not of type signature/.test(error.message)) {
    const type = await openpgp.unarmor(armored).then(
      (result) => result.type,
      () => undefined,
    );
    const contents = (type !== undefined && ARMOR_CONTENTS[type]) || "something else";
    return `not a detached signature: the armor holds ${contents}`;
  }
  if (/Misformed armored text|Unexpected end of packet/.test(error.message)) {
    return `truncated or damaged signature (openpgp: ${error.message})`;
  }
  return `unreadable OpenPGP signature (openpgp: ${error.message})`;
}

async function judge(
  packet: openpgp.SignaturePacket,
  bytes: Uint8Array,
  keyring: readonly TrustedKey[],
  now: Date,
): Promise<SignatureVerdict> {
  const signingKeyId = hexId(packet.issuerKeyID);
  const created = packet.created ?? undefined;
  const trusted = keyring.find((t) => t.key.getKeys(packet.issuerKeyID).length > 0);
  const base = { keyFingerprint: trusted?.fingerprint, signingKeyId, created };
  if (!trusted) {
    return {
      ...base,
      userId: undefined,
      verdict: "invalid",
      reason: `signed by key ${signingKeyId}, which is not in keys/`,
    };
  }
  const userId = await primaryUserId(trusted.key, created ?? now);
  const refusal = await refusalOf(packet, bytes, trusted, now);
  return refusal === undefined
    ? { ...base, userId, verdict: "valid", reason: "good signature" }
    : { ...base, userId, verdict: "invalid", reason: refusal };
}

/** Why the signature does not count, or undefined when it does. */
async function refusalOf(
  packet: openpgp.SignaturePacket,
  bytes: Uint8Array,
  trusted: TrustedKey,
  now: Date,
): Promise<string | undefined> {
  const openpgpError = await verifyWithOpenpgp(packet, bytes, trusted.key, now);
  if (openpgpError !== undefined && isCryptographicFailure(openpgpError)) return TAMPERED;
  const own = await policyRefusal(packet, trusted, now);
  if (own !== undefined) return own;
  return openpgpError === undefined ? undefined : translate(openpgpError);
}

/**
 * openpgp's verdict on one signature packet: cryptography, hash and key algorithms (through
 * TRUST_CONFIG), and the key's validity (expiry, revocation, binding) when the signature was made.
 * `verified` is awaited: openpgp.verify resolves even for bad signatures.
 */
async function verifyWithOpenpgp(
  packet: openpgp.SignaturePacket,
  bytes: Uint8Array,
  key: openpgp.PublicKey,
  now: Date,
): Promise<string | undefined> {
  const single = new openpgp.PacketList<openpgp.SignaturePacket>();
  single.push(packet);
  try {
    const { signatures } = await openpgp.verify({
      message: await openpgp.createMessage({ binary: bytes }),
      signature: new openpgp.Signature(single),
      verificationKeys: [key],
      format: "binary",
      date: new Date(now.getTime() + MAX_CLOCK_SKEW_MS),
      config: TRUST_CONFIG,
    });
    const [result] = signatures;
    if (!result) return "openpgp returned no verdict for the signature";
    await result.verified;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const isCryptographicFailure = (message: string): boolean =>
  /Signed digest did not match|Signature verification failed/.test(message);

/** The rules pinline states itself, in the order a reader would check them. */
async function policyRefusal(
  packet: openpgp.SignaturePacket,
  trusted: TrustedKey,
  now: Date,
): Promise<string | undefined> {
  if (packet.signatureType !== enums.signature.binary) {
    const type = nameOf(enums.signature, packet.signatureType);
    return type === "text"
      ? "a text-mode signature (gpg --textmode), which ignores line-ending changes: sign the exact bytes (binary mode)"
      : `a ${type} signature, not a signature over a document`;
  }
  const created = packet.created;
  if (!created) return "the signature carries no creation time";
  if (created.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    return `dated ${formatInstant(created)}, in the future (now is ${formatInstant(now)}; at most ${MAX_CLOCK_SKEW_MS / 60_000} minutes of clock skew are allowed)`;
  }
  const expires = packet.getExpirationTime();
  if (expires instanceof Date && expires <= now) {
    return `the signature itself expired on ${formatInstant(expires)}`;
  }
  const hash = packet.hashAlgorithm;
  if (hash === null || TRUST_CONFIG.rejectMessageHashAlgorithms.has(hash)) {
    const name = hash === null ? "an unknown hash" : enums.read(enums.hash, hash).toUpperCase();
    return `made with ${name}, a hash algorithm that is not accepted (SHA-256 or stronger is required)`;
  }
  const keyProblem = await findKeyProblem(trusted.key, created);
  // The primary key's revocation or expiry comes first; "no signing-capable key" last, since
  // the signing subkey's own problem says why it is not.
  if (keyProblem && keyProblem.kind !== "no-signing-key") {
    return describeKeyProblem(trusted.fingerprint, keyProblem, created);
  }
  const [signingKey] = trusted.key.getKeys(packet.issuerKeyID);
  const subkey =
    signingKey && signingKey !== trusted.key
      ? await subkeyRefusal(signingKey as openpgp.Subkey, created)
      : undefined;
  if (subkey) return subkey;
  return keyProblem ? describeKeyProblem(trusted.fingerprint, keyProblem, created) : undefined;
}

/** An enum value's name; openpgp's enums are plain objects, without TypeScript's reverse map. */
function nameOf(values: object, value: number | null): string {
  return Object.entries(values).find(([, v]) => v === value)?.[0] ?? "unknown";
}

function describeKeyProblem(fingerprint: string, problem: KeyProblem, signed: Date): string {
  const key = `key ${fingerprint}`;
  switch (problem.kind) {
    case "algorithm":
      return `${key}: ${problem.reason}`;
    case "revoked":
      return problem.revocation?.hard
        ? `${key} was ${problem.reason}, which voids its signatures whatever their date`
        : `${key} was ${problem.reason}, before this signature was made on ${formatInstant(signed)}`;
    case "expired":
      return `${key} ${problem.reason}, before this signature was made on ${formatInstant(signed)}`;
    default:
      return `${key} ${problem.reason}`;
  }
}

async function subkeyRefusal(subkey: openpgp.Subkey, signed: Date): Promise<string | undefined> {
  const problem = await findSubkeyProblem(subkey, signed);
  if (!problem) return undefined;
  const by = `signed by subkey ${hexId(subkey.getKeyID())}, which ${problem.reason}`;
  switch (problem.kind) {
    case "revoked":
      return problem.revocation?.hard
        ? `${by}: a hard revocation voids its signatures whatever their date`
        : `${by}, before the signature was made on ${formatInstant(signed)}`;
    case "expired":
      return `${by}, before the signature was made on ${formatInstant(signed)}`;
    case "algorithm":
      return `signed by subkey ${hexId(subkey.getKeyID())}: ${problem.reason}`;
    default:
      return by;
  }
}

/** openpgp's refusals, in words a release manager can act on. */
function translate(message: string): string {
  const rules: [RegExp, (match: RegExpMatchArray) => string][] = [
    [/Key is newer than the signature/, () => "the signature is older than the key that made it"],
    [/Subkey is expired/, () => "the signing subkey had expired when the signature was made"],
    [/Primary key is expired/, () => "the signing key had expired when the signature was made"],
    [/Subkey is revoked/, () => "the signing subkey was revoked when the signature was made"],
    [/Primary key is revoked/, () => "the signing key was revoked when the signature was made"],
    [
      /Insecure (?:message )?hash algorithm: (\w+)/,
      (m) => `made with ${m[1]}, a hash algorithm that is not accepted`,
    ],
    [/Signature creation time is in the future/, () => "the signature is dated in the future"],
    [/Signature is expired/, () => "the signature itself has expired"],
    [
      /Could not find valid self-signature|Could not find valid .*binding signature/,
      () =>
        "the key had no valid self-signature when the signature was made (SHA-1 self-signatures are not accepted)",
    ],
    [/too weak|is disabled/, () => `the signing key is too weak (openpgp: ${message})`],
  ];
  for (const [pattern, describe] of rules) {
    const match = message.match(pattern);
    if (match) return describe(match);
  }
  return `openpgp refused it: ${message}`;
}

async function primaryUserId(key: openpgp.PublicKey, at: Date): Promise<string | undefined> {
  try {
    const { user } = await key.getPrimaryUser(at, undefined, TRUST_FULL_CONFIG);
    return user.userID?.userID ?? key.getUserIDs()[0];
  } catch {
    return key.getUserIDs()[0];
  }
}

function summarize(signatures: SignatureVerdict[], distinct: number, threshold: number): string {
  const required = `${threshold} required signature${threshold === 1 ? "" : "s"}`;
  if (distinct >= threshold) {
    return distinct === threshold
      ? `${distinct} of ${required} from distinct trusted keys`
      : `${distinct} signatures from distinct trusted keys (${threshold} required)`;
  }
  const notes: string[] = [];
  const valid = signatures.filter((s) => s.verdict === "valid").length;
  if (valid > distinct) {
    notes.push(
      `${valid} valid signatures come from ${distinct} key${distinct === 1 ? "" : "s"}, and each key counts once`,
    );
  }
  // One note per reason, naming every key it applies to: a tampered manifest signed by two
  // keys is one problem, not two.
  const signers = new Map<string, string[]>();
  for (const s of signatures) {
    if (s.verdict === "valid") continue;
    const keys = signers.get(s.reason) ?? [];
    if (s.keyFingerprint && !s.reason.includes(s.keyFingerprint)) keys.push(s.keyFingerprint);
    signers.set(s.reason, keys);
  }
  for (const [reason, keys] of signers) {
    const by =
      keys.length === 0 ? "" : `signature${keys.length === 1 ? "" : "s"} by ${keys.join(", ")}: `;
    notes.push(`${by}${reason}`);
  }
  if (signatures.length === 0) notes.push("the file holds no signature");
  return `only ${distinct} of ${required} from distinct trusted keys${notes.length > 0 ? `: ${notes.join("; ")}` : ""}`;
}
