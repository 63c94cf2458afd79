import * as openpgp from "openpgp";
import { beforeAll, describe, expect, it } from "vitest";
import { InvalidValueError, RefusedError, UsageError } from "../core/errors.js";
import { signBytes } from "./sign-manifest.js";

const { enums } = openpgp;

const NOW = new Date("2024-06-01T00:00:00Z");
const BYTES = new TextEncoder().encode("version: 2.4.1\r\nno canonicalisation\n");

async function makeKey(options: { passphrase?: string; keyExpirationTime?: number } = {}) {
  return openpgp.generateKey({
    userIDs: [{ name: "alice", email: "alice@example.org" }],
    date: new Date("2024-01-01T00:00:00Z"),
    ...options,
    format: "armored",
  });
}

let plain: Awaited<ReturnType<typeof makeKey>>;
let encrypted: Awaited<ReturnType<typeof makeKey>>;
let expired: Awaited<ReturnType<typeof makeKey>>;

beforeAll(async () => {
  [plain, encrypted, expired] = await Promise.all([
    makeKey(),
    makeKey({ passphrase: "correct horse" }),
    makeKey({ keyExpirationTime: 30 * 24 * 3600 }),
  ]);
});

async function expectError(
  attempt: Promise<unknown>,
  type: typeof InvalidValueError | typeof RefusedError | typeof UsageError,
  message: string | RegExp,
): Promise<void> {
  await expect(attempt).rejects.toBeInstanceOf(type);
  await expect(attempt).rejects.toThrow(message);
}

describe("signBytes", () => {
  it("makes a binary detached signature over the exact bytes", async () => {
    const armored = await signBytes({
      bytes: BYTES,
      armoredPrivateKey: plain.privateKey,
      now: NOW,
    });
    const signature = await openpgp.readSignature({ armoredSignature: armored });
    expect(signature.packets).toHaveLength(1);
    expect(signature.packets[0]?.signatureType).toBe(enums.signature.binary);
    expect(signature.packets[0]?.created).toEqual(NOW);
    const { signatures } = await openpgp.verify({
      message: await openpgp.createMessage({ binary: BYTES }),
      signature,
      verificationKeys: await openpgp.readKey({ armoredKey: plain.publicKey }),
      date: NOW,
      format: "binary",
    });
    await expect(signatures[0]?.verified).resolves.toBe(true);
  });

  it("refuses a second signature by the same key", async () => {
    const first = await signBytes({ bytes: BYTES, armoredPrivateKey: plain.privateKey, now: NOW });
    const fingerprint = (await openpgp.readKey({ armoredKey: plain.publicKey }))
      .getFingerprint()
      .toUpperCase();
    await expectError(
      signBytes({
        bytes: BYTES,
        armoredPrivateKey: plain.privateKey,
        existingSignature: first,
        now: NOW,
      }),
      RefusedError,
      `already signed by ${fingerprint}`,
    );
  });

  it("asks for the passphrase of an encrypted key, refuses a wrong one, signs with the right one", async () => {
    const input = { bytes: BYTES, armoredPrivateKey: encrypted.privateKey, now: NOW };
    const fingerprint = (await openpgp.readKey({ armoredKey: encrypted.publicKey }))
      .getFingerprint()
      .toUpperCase();
    const key = `the key ${fingerprint} (alice <alice@example.org>)`;
    await expectError(signBytes(input), UsageError, `${key} is encrypted: pass its passphrase`);
    await expectError(
      signBytes({ ...input, passphrase: "wrong" }),
      InvalidValueError,
      `the passphrase does not unlock ${key}`,
    );
    await expect(signBytes({ ...input, passphrase: "correct horse" })).resolves.toMatch(
      /^-----BEGIN PGP SIGNATURE-----/,
    );
  });

  it("names where the key and the passphrase came from, in the caller's words", async () => {
    const input = {
      bytes: BYTES,
      armoredPrivateKey: encrypted.privateKey,
      keySource: {
        key: "alice.private.asc",
        howToGivePassphrase: "pass --passphrase-env VAR",
        passphrase: "the passphrase in $ALICE",
      },
      now: NOW,
    };
    await expectError(
      signBytes(input),
      UsageError,
      /^the key [0-9A-F]{40} \(alice <alice@example\.org>\) in alice\.private\.asc is encrypted: pass --passphrase-env VAR$/,
    );
    await expectError(
      signBytes({ ...input, passphrase: "wrong" }),
      InvalidValueError,
      /^the passphrase in \$ALICE does not unlock the key [0-9A-F]{40} \(alice <alice@example\.org>\) in alice\.private\.asc$/,
    );
  });

  it("refuses to sign with an expired key", async () => {
    await expectError(
      signBytes({ bytes: BYTES, armoredPrivateKey: expired.privateKey, now: NOW }),
      RefusedError,
      /^refusing to sign with key [0-9A-F]{40}: expired on 2024-01-31$/,
    );
  });

  it("refuses a public key as the signing key", async () => {
    await expectError(
      signBytes({ bytes: BYTES, armoredPrivateKey: plain.publicKey, now: NOW }),
      InvalidValueError,
      "the signing key is not a private key (it is a public key, or something else)",
    );
  });

  it("refuses to add to an existing signature file that is not a signature", async () => {
    await expectError(
      signBytes({
        bytes: BYTES,
        armoredPrivateKey: plain.privateKey,
        existingSignature: plain.publicKey,
        now: NOW,
      }),
      InvalidValueError,
      "the existing signature file cannot be added to: not a detached signature: the armor holds a public key",
    );
  });
});
