/**
 * Which OpenPGP keys pinline accepts as signers (DESIGN §6): no DSA or ElGamal, RSA of at least
 * 2048 bits, no MD5/RIPEMD-160/SHA-1 hashes, not expired, not revoked. The rules are stated once
 * here, as an openpgp config and as plain checks that say in words what is wrong with a key.
 */
import * as openpgp from "openpgp";

const { enums } = openpgp;

const WEAK_HASHES = [enums.hash.md5, enums.hash.ripemd, enums.hash.sha1];

/** Our rules as an openpgp config, passed as `config` to every openpgp call in src/trust. */
export const TRUST_CONFIG = {
  minRSABits: 2048,
  rejectHashAlgorithms: new Set<openpgp.enums.hash>(WEAK_HASHES),
  rejectMessageHashAlgorithms: new Set<openpgp.enums.hash>(WEAK_HASHES),
  rejectPublicKeyAlgorithms: new Set<openpgp.enums.publicKey>([
    enums.publicKey.elgamal,
    enums.publicKey.dsa,
  ]),
} satisfies openpgp.PartialConfig;

/**
 * TRUST_CONFIG over openpgp's defaults: openpgp's methods (key.getSigningKey, signature.verify)
 * take a full config, unlike its top-level functions, which merge a partial one.
 */
export const TRUST_FULL_CONFIG: openpgp.Config = { ...openpgp.config, ...TRUST_CONFIG };

/**
 * For reading revocations only: every cryptographically valid revocation counts, whatever its
 * hash, so that a revocation is never ignored for being old-fashioned (ignoring it fails open).
 */
export const REVOCATION_CONFIG: openpgp.Config = {
  ...TRUST_FULL_CONFIG,
  rejectHashAlgorithms: new Set(),
  rejectMessageHashAlgorithms: new Set(),
};

/**
 * openpgp skips a signature's time checks when given a null date; its type declarations only
 * allow a Date, hence this one cast.
 */
export const ANY_TIME = null as unknown as Date;

export interface Revocation {
  date: Date;
  /** "key compromised", "key superseded: moved to a YubiKey", "no reason given", ... */
  reason: string;
  /**
   * A hard revocation (key compromised, no reason, or any reason other than superseded or
   * retired) voids every signature whatever its date; a soft one only those made from its date.
   */
  hard: boolean;
}

export interface KeyDescription {
  /** Uppercase hex: 40 characters for a v4 key. */
  fingerprint: string;
  /** Uppercase hex, 16 characters. */
  keyId: string;
  userIds: string[];
  created: Date;
  /**
   * "never" when the key has no expiry; "invalid" when no self-signature is valid under
   * TRUST_CONFIG (SHA-1 self-signatures, for example), so the key cannot sign at all.
   */
  expires: Date | "never" | "invalid";
  revoked: Revocation | undefined;
  /** "Ed25519 (legacy EdDSA)", "RSA-4096", "ECDSA nistP256", ... */
  algorithm: string;
}

/** What is wrong with a key as a signer; `kind` lets callers add context to `reason`. */
export interface KeyProblem {
  kind:
    | "algorithm"
    | "not-yet-created"
    | "revoked"
    | "expired"
    | "no-valid-self-signature"
    | "no-signing-key";
  reason: string;
  /** For kind "revoked": the revocation in force. */
  revocation?: Revocation;
}

/** A date as YYYY-MM-DD (UTC). */
export const formatDay = (date: Date): string => date.toISOString().slice(0, 10);

/** An instant as 2024-05-01T10:00:00Z (UTC, whole seconds). */
export const formatInstant = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

export const hexId = (keyId: openpgp.KeyID): string => keyId.toHex().toUpperCase();

const REVOCATION_REASONS: Record<number, string> = {
  [enums.reasonForRevocation.noReason]: "no reason given",
  [enums.reasonForRevocation.keySuperseded]: "key superseded",
  [enums.reasonForRevocation.keyCompromised]: "key compromised",
  [enums.reasonForRevocation.keyRetired]: "key retired",
};

const SOFT_REASONS = new Set<number>([
  enums.reasonForRevocation.keySuperseded,
  enums.reasonForRevocation.keyRetired,
]);

/** Why a key or subkey algorithm is refused, or undefined when it is accepted. */
export function algorithmProblem(info: openpgp.AlgorithmInfo): string | undefined {
  switch (info.algorithm) {
    case "dsa":
      return "DSA keys are not accepted";
    case "elgamal":
      return "ElGamal keys are not accepted (ElGamal cannot sign)";
    case "rsaEncryptSign":
    case "rsaSign":
    case "rsaEncrypt":
      if (info.bits === undefined || info.bits < TRUST_CONFIG.minRSABits) {
        return `RSA key of ${info.bits ?? "unknown"} bits (at least ${TRUST_CONFIG.minRSABits} required)`;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** A readable name for a key algorithm: "RSA-4096", "Ed25519", "ECDSA nistP256". */
export function describeAlgorithm(info: openpgp.AlgorithmInfo): string {
  switch (info.algorithm) {
    case "rsaEncryptSign":
    case "rsaSign":
    case "rsaEncrypt":
      return `RSA-${info.bits}`;
    case "dsa":
      return `DSA-${info.bits}`;
    case "elgamal":
      return `ElGamal-${info.bits}`;
    case "eddsaLegacy":
      return "Ed25519 (legacy EdDSA)";
    case "ed25519":
      return "Ed25519";
    case "ed448":
      return "Ed448";
    case "ecdsa":
      return `ECDSA ${info.curve}`;
    default:
      return info.curve ? `${info.algorithm} ${info.curve}` : info.algorithm;
  }
}

function toRevocation(signature: openpgp.SignaturePacket): Revocation {
  const flag = signature.reasonForRevocationFlag;
  const label =
    flag === null ? "no reason given" : (REVOCATION_REASONS[flag] ?? `reason code ${flag}`);
  const text = signature.reasonForRevocationString?.trim();
  return {
    date: signature.created ?? new Date(0),
    reason: text ? `${label}: ${text}` : label,
    hard: flag === null || !SOFT_REASONS.has(flag),
  };
}

/**
 * The revocation that governs: the earliest hard one if any, else the earliest soft one. Only
 * revocations that verify against the key count; third-party ones never do.
 */
async function strongestRevocation(
  signatures: readonly openpgp.SignaturePacket[],
  verify: (signature: openpgp.SignaturePacket) => Promise<void>,
): Promise<Revocation | undefined> {
  const valid: Revocation[] = [];
  for (const signature of signatures) {
    try {
      await verify(signature);
      valid.push(toRevocation(signature));
    } catch {
      // not made by this key, or damaged: it revokes nothing
    }
  }
  valid.sort((a, b) => Number(b.hard) - Number(a.hard) || a.date.getTime() - b.date.getTime());
  return valid[0];
}

/** The primary key's own revocation, read from its revocation signatures. */
export function keyRevocation(key: openpgp.PublicKey): Promise<Revocation | undefined> {
  const primary = key.keyPacket;
  return strongestRevocation(key.revocationSignatures, (signature) =>
    signature.verify(
      primary,
      enums.signature.keyRevocation,
      { key: primary },
      ANY_TIME,
      false,
      REVOCATION_CONFIG,
    ),
  );
}

/** A subkey's revocation, made by its primary key. */
export function subkeyRevocation(subkey: openpgp.Subkey): Promise<Revocation | undefined> {
  const primary = subkey.mainKey.keyPacket;
  return strongestRevocation(subkey.revocationSignatures, (signature) =>
    signature.verify(
      primary,
      enums.signature.subkeyRevocation,
      { key: primary, bind: subkey.keyPacket },
      ANY_TIME,
      false,
      REVOCATION_CONFIG,
    ),
  );
}

/** Whether a revocation is in force for something done at `at`. */
export const revokedAt = (revocation: Revocation | undefined, at: Date): boolean =>
  revocation !== undefined && (revocation.hard || revocation.date <= at);

async function expiryOf(key: openpgp.PublicKey): Promise<Date | "never" | "invalid"> {
  const expires = await key.getExpirationTime(undefined, TRUST_FULL_CONFIG);
  if (expires === null) return "invalid";
  return expires instanceof Date ? expires : "never";
}

export async function describeKey(key: openpgp.PublicKey): Promise<KeyDescription> {
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    keyId: hexId(key.getKeyID()),
    userIds: key.getUserIDs(),
    created: key.getCreationTime(),
    expires: await expiryOf(key),
    revoked: await keyRevocation(key),
    algorithm: describeAlgorithm(key.getAlgorithmInfo()),
  };
}

/**
 * When `key` has a valid self-signature, but none made by `at`: the date of the newest one.
 * Undefined when it had one at `at`, or has none at all (expiryOf says so).
 */
async function selfSignatureAfter(key: openpgp.PublicKey, at: Date): Promise<Date | undefined> {
  const primaryUser = (date: Date) =>
    key.getPrimaryUser(date, undefined, TRUST_FULL_CONFIG).catch(() => undefined);
  if (await primaryUser(at)) return undefined;
  const created = (await primaryUser(ANY_TIME))?.selfCertification.created;
  return created && created > at ? created : undefined;
}

function signsData(binding: openpgp.SignaturePacket): boolean {
  const flags = binding.keyFlags?.[0];
  return flags !== undefined && (flags & enums.keyFlags.signData) !== 0;
}

/**
 * What keeps `key` from being a trusted signer at `at`, or undefined when nothing does. The
 * primary key and every signing subkey valid at `at` must use an accepted algorithm.
 */
export async function findKeyProblem(
  key: openpgp.PublicKey,
  at: Date,
): Promise<KeyProblem | undefined> {
  const algorithm = algorithmProblem(key.getAlgorithmInfo());
  if (algorithm) return { kind: "algorithm", reason: algorithm };
  const created = key.getCreationTime();
  if (created > at) {
    return {
      kind: "not-yet-created",
      reason: `was created on ${formatInstant(created)}, after ${formatInstant(at)}`,
    };
  }
  const revocation = await keyRevocation(key);
  if (revocation && revokedAt(revocation, at)) {
    return {
      kind: "revoked",
      reason: `revoked on ${formatDay(revocation.date)} (${revocation.reason})`,
      revocation,
    };
  }
  const expires = await expiryOf(key);
  if (expires === "invalid") {
    return {
      kind: "no-valid-self-signature",
      reason:
        "has no valid self-signature (self-signatures made with SHA-1 or weaker are not accepted: refresh the key's expiry with a current GnuPG)",
    };
  }
  if (expires !== "never" && expires <= at) {
    return { kind: "expired", reason: `expired on ${formatDay(expires)}` };
  }
  const unsigned = await selfSignatureAfter(key, at);
  if (unsigned) {
    return {
      kind: "no-valid-self-signature",
      reason: `had no self-signature yet: its self-signature is dated ${formatInstant(unsigned)}, after ${formatInstant(at)} (gpg replaces a key's self-signature when its expiry changes: keep the earlier copy of the key in keys/ beside the new one, or sign the release again)`,
    };
  }
  for (const subkey of key.subkeys) {
    const binding = await subkey.verify(at, TRUST_FULL_CONFIG).catch(() => undefined);
    if (!binding || !signsData(binding)) continue;
    const problem = algorithmProblem(subkey.getAlgorithmInfo());
    if (problem) {
      return {
        kind: "algorithm",
        reason: `signing subkey ${hexId(subkey.getKeyID())}: ${problem}`,
      };
    }
  }
  try {
    await key.getSigningKey(undefined, at, undefined, TRUST_FULL_CONFIG);
  } catch {
    return { kind: "no-signing-key", reason: "has no signing-capable key" };
  }
  return undefined;
}

/**
 * What keeps `subkey` from having made a signature at `at`, or undefined when nothing does:
 * created later, revoked (a hard revocation whatever its date, a soft one from its date), no
 * valid binding signature, expired, not allowed to sign, or a refused algorithm. Reasons read
 * after "subkey 0123…": "expired on 2026-01-16".
 */
export async function findSubkeyProblem(
  subkey: openpgp.Subkey,
  at: Date,
): Promise<KeyProblem | undefined> {
  const created = subkey.getCreationTime();
  if (created > at) {
    return {
      kind: "not-yet-created",
      reason: `was created on ${formatInstant(created)}, after ${formatInstant(at)}`,
    };
  }
  const revocation = await subkeyRevocation(subkey);
  if (revocation && revokedAt(revocation, at)) {
    return {
      kind: "revoked",
      reason: `was revoked on ${formatDay(revocation.date)} (${revocation.reason})`,
      revocation,
    };
  }
  const binding = await bindingAt(subkey, at);
  if (!binding) return { kind: "no-valid-self-signature", reason: await unboundReason(subkey) };
  const expires = await subkey.getExpirationTime(at, TRUST_FULL_CONFIG);
  if (expires instanceof Date && expires <= at) {
    return { kind: "expired", reason: `expired on ${formatDay(expires)}` };
  }
  if (!signsData(binding)) {
    return { kind: "no-signing-key", reason: "is not allowed to sign (its key flags say so)" };
  }
  const algorithm = algorithmProblem(subkey.getAlgorithmInfo());
  return algorithm ? { kind: "algorithm", reason: algorithm } : undefined;
}

/** Why a subkey had no valid binding at a date: none made yet, or none pinline accepts. */
async function unboundReason(subkey: openpgp.Subkey): Promise<string> {
  const later = await bindingAt(subkey, ANY_TIME);
  if (later?.created) {
    return `was not yet bound to its primary key: its binding signature is dated ${formatInstant(later.created)}, after the signature (gpg replaces a subkey's binding signature when its expiry changes, and openpgp keeps only the newest: sign the release again)`;
  }
  return "had no valid binding signature from its primary key (binding signatures made with SHA-1 or weaker are not accepted)";
}

/**
 * The newest binding signature in force at `at` (at any time with ANY_TIME), expiry aside:
 * openpgp's Subkey.verify also refuses an expired or revoked subkey, which findSubkeyProblem
 * says in its own words.
 */
async function bindingAt(
  subkey: openpgp.Subkey,
  at: Date,
): Promise<openpgp.SignaturePacket | undefined> {
  const primary = subkey.mainKey.keyPacket;
  let latest: openpgp.SignaturePacket | undefined;
  for (const signature of subkey.bindingSignatures) {
    const valid = await signature
      .verify(
        primary,
        enums.signature.subkeyBinding,
        { key: primary, bind: subkey.keyPacket },
        at,
        false,
        TRUST_FULL_CONFIG,
      )
      .then(
        () => true,
        // made by another key, damaged, made with a refused hash, or not yet made at `at`
        () => false,
      );
    if (valid && (!latest || (signature.created ?? 0) >= (latest.created ?? 0))) latest = signature;
  }
  return latest;
}

/**
 * Undefined when `key` is acceptable as a trusted signer key at `at`, else why not, in words:
 * "RSA key of 1024 bits (at least 2048 required)", "expired on 2024-01-01", ...
 */
export async function checkSignerKey(
  key: openpgp.PublicKey,
  at: Date,
): Promise<string | undefined> {
  return (await findKeyProblem(key, at))?.reason;
}
