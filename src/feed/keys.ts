/**
 * The ed25519 keys that sign the update feed's TUF metadata (issue 7). Each top-level role has
 * one key and threshold 1; the root may be cross-signed by the previous root's keys when the
 * root keys rotate.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
} from "node:crypto";
import { Key, Signature } from "@tufjs/models";
import { UsageError } from "../core/errors.js";

/** A private ed25519 key: a KeyObject, PKCS#8 PEM text, or a private JWK (with `d`). */
export type FeedPrivateKey = KeyObject | string | JsonWebKey;

/** The roles of a TUF repository, in the order they are written. */
export const FEED_ROLES = ["root", "targets", "snapshot", "timestamp"] as const;
export type FeedRole = (typeof FEED_ROLES)[number];

/**
 * The private keys of the feed's four roles. `previousRoot` holds the keys of the root the
 * clients trust now, when `root` is a new key: the new root version is signed by both, as TUF
 * requires for a rotation.
 */
export interface FeedKeys {
  root: FeedPrivateKey;
  targets: FeedPrivateKey;
  snapshot: FeedPrivateKey;
  timestamp: FeedPrivateKey;
  previousRoot?: readonly FeedPrivateKey[];
}

/** A key ready to sign: its private half, and the public half as TUF metadata lists it. */
export interface SigningKey {
  privateKey: KeyObject;
  /** The TUF key (keytype/scheme "ed25519", keyval.public the raw public key in hex). */
  key: Key;
  keyId: string;
}

/** Reads a private key and checks that it is ed25519. */
export function toPrivateKey(input: FeedPrivateKey, label = "feed key"): KeyObject {
  let key: KeyObject;
  try {
    if (typeof input === "string") key = createPrivateKey(input);
    else if (isKeyObject(input)) key = input;
    else key = createPrivateKey({ key: input, format: "jwk" });
  } catch (error) {
    throw new UsageError(`the ${label} cannot be read as a private key`, {
      hint: "pass a PKCS#8 PEM, a private JWK or a KeyObject of an ed25519 key",
      cause: error,
    });
  }
  if (key.type !== "private" || key.asymmetricKeyType !== "ed25519") {
    throw new UsageError(`the ${label} is not a private ed25519 key`, {
      hint: "generate one with `openssl genpkey -algorithm ed25519`",
    });
  }
  return key;
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === "object" && value !== null && "asymmetricKeyType" in value;
}

/** The raw 32-byte ed25519 public key in hex (TUF's keyval.public for ed25519). */
function publicHex(privateKey: KeyObject): string {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new UsageError("the ed25519 key has no public part");
  return Buffer.from(jwk.x, "base64url").toString("hex");
}

/** A TUF key id: sha256 of the canonical JSON of the public key's metadata. */
function keyIdOf(publicKeyHex: string): string {
  // Canonical JSON of {keytype, keyval: {public}, scheme}: keys sorted, no whitespace; the
  // values are plain ASCII, so no escaping rules come into play.
  const canonical = `{"keytype":"ed25519","keyval":{"public":"${publicKeyHex}"},"scheme":"ed25519"}`;
  return createHash("sha256").update(canonical).digest("hex");
}

/** A private key ready to sign metadata, with its TUF public key and key id. */
export function signingKey(input: FeedPrivateKey, label?: string): SigningKey {
  const privateKey = toPrivateKey(input, label);
  const hex = publicHex(privateKey);
  const keyId = keyIdOf(hex);
  const key = new Key({
    keyID: keyId,
    keyType: "ed25519",
    scheme: "ed25519",
    keyVal: { public: hex },
  });
  return { privateKey, key, keyId };
}

/** The TUF key id of a private key's public half. */
export function feedKeyId(input: FeedPrivateKey): string {
  return signingKey(input).keyId;
}

/** A signer for Metadata.sign: ed25519 over the canonical bytes of `signed`. */
export function signerFor(key: SigningKey): (data: Buffer) => Signature {
  return (data) =>
    new Signature({ keyID: key.keyId, sig: sign(null, data, key.privateKey).toString("hex") });
}

/** Fresh keys for every role (tests, first-time setup). PEM text, so they can go to secrets. */
export function generateFeedKeys(): {
  root: string;
  targets: string;
  snapshot: string;
  timestamp: string;
} {
  const one = () =>
    generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return { root: one(), targets: one(), snapshot: one(), timestamp: one() };
}
