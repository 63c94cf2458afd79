/**
 * Detached signatures over a manifest's exact bytes (DESIGN §6): a binary signature, so that
 * nothing is canonicalised and a CRLF conversion or an added newline breaks it. Several signers
 * collect their signatures in one armored block, oldest first.
 */
import * as openpgp from "openpgp";
import { InvalidValueError, RefusedError, UsageError } from "../core/errors.js";
import { checkSignerKey, TRUST_CONFIG } from "./key-policy.js";
import { readDetachedSignature } from "./verify-manifest.js";

/**
 * Where the signing key and its passphrase come from, in the words of the entry point that read
 * them, so that an encrypted key's messages say what to pass there.
 */
export interface KeySource {
  /** Where the key was read: "signer.private.asc", "the private-key input". */
  key: string;
  /** What to do to give a passphrase: "pass --passphrase-env VAR naming …". */
  howToGivePassphrase: string;
  /** The passphrase that was given: "the passphrase in $SIGNING_PASSPHRASE", "the passphrase input". */
  passphrase: string;
}

/** For a caller that does not say where the key came from. */
const UNNAMED_SOURCE: KeySource = {
  key: "",
  howToGivePassphrase: "pass its passphrase",
  passphrase: "the passphrase",
};

/**
 * Signs `bytes` with the private key and returns an ASCII-armored detached signature; with
 * `existingSignature`, the old signature packets followed by the new one, in one block.
 * Refuses a key that checkSignerKey rejects at `now`, and a second signature by the same key.
 */
export async function signBytes(input: {
  bytes: Uint8Array;
  armoredPrivateKey: string;
  passphrase?: string;
  keySource?: KeySource;
  existingSignature?: string;
  now?: Date;
}): Promise<string> {
  const { bytes, existingSignature, now = new Date() } = input;
  const privateKey = await unlockKey(
    input.armoredPrivateKey,
    input.passphrase,
    input.keySource ?? UNNAMED_SOURCE,
  );
  const fingerprint = privateKey.getFingerprint().toUpperCase();
  const problem = await checkSignerKey(privateKey.toPublic(), now);
  if (problem) {
    throw new RefusedError(`refusing to sign with key ${fingerprint}: ${problem}`, {
      hint: "sign with a key that pinline verify would accept: see DESIGN §6",
    });
  }
  const existing = existingSignature === undefined ? [] : await readExisting(existingSignature);
  if (existing.some((packet) => privateKey.getKeys(packet.issuerKeyID).length > 0)) {
    throw new RefusedError(`already signed by ${fingerprint}`, {
      hint: "each key signs once; a second signer uses their own key",
    });
  }
  const signed = await openpgp.sign({
    message: await openpgp.createMessage({ binary: bytes }),
    signingKeys: privateKey,
    detached: true,
    format: "binary",
    date: now,
    config: TRUST_CONFIG,
  });
  const fresh = await openpgp.readSignature({ binarySignature: signed, config: TRUST_CONFIG });
  const packets = new openpgp.PacketList<openpgp.SignaturePacket>();
  packets.push(...existing, ...fresh.packets);
  return new openpgp.Signature(packets).armor();
}

async function readExisting(armored: string): Promise<openpgp.SignaturePacket[]> {
  try {
    return [...(await readDetachedSignature(armored)).packets];
  } catch (error) {
    if (error instanceof InvalidValueError) {
      throw new InvalidValueError(
        `the existing signature file cannot be added to: ${error.message}`,
        {
          cause: error,
          hint: "fix or remove the existing signature file, then sign again",
        },
      );
    }
    throw error;
  }
}

async function unlockKey(
  armored: string,
  passphrase: string | undefined,
  source: KeySource,
): Promise<openpgp.PrivateKey> {
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: armored, config: TRUST_CONFIG });
  } catch (error) {
    const message = (error as Error).message;
    throw new InvalidValueError(
      /not of type private key/.test(message)
        ? "the signing key is not a private key (it is a public key, or something else)"
        : `the signing key cannot be read: ${message}`,
      {
        cause: error,
        hint: "pass an ASCII-armored private key (gpg --armor --export-secret-keys)",
      },
    );
  }
  if (key.isDecrypted()) return key;
  const which = `the key ${nameKey(key)}${source.key ? ` in ${source.key}` : ""}`;
  if (passphrase === undefined) {
    throw new UsageError(`${which} is encrypted: ${source.howToGivePassphrase}`);
  }
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase, config: TRUST_CONFIG });
  } catch (error) {
    const message = (error as Error).message;
    if (/Incorrect key passphrase/.test(message)) {
      throw new InvalidValueError(`${source.passphrase} does not unlock ${which}`, {
        cause: error,
      });
    }
    throw new InvalidValueError(`${which} cannot be decrypted: ${message}`, { cause: error });
  }
}

/** "FINGERPRINT (first user id)", as `pinline keys list` shows a key. */
function nameKey(key: openpgp.PrivateKey): string {
  const userId = key.getUserIDs()[0];
  return `${key.getFingerprint().toUpperCase()}${userId ? ` (${userId})` : ""}`;
}
