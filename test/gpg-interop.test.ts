import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKeyring } from "../src/trust/keyring.js";
import { signBytes } from "../src/trust/sign-manifest.js";
import { verifyBytes } from "../src/trust/verify-manifest.js";
import { repoRoot } from "./harness/example-repo.js";
import { Gpg, gpgAvailable } from "./harness/gpg.js";

/**
 * GnuPG interop, both directions (issue 3, item 7): what pinline signs, gpg verifies; what gpg
 * signs, pinline verifies; and on a tampered manifest the two must agree that it is tampered.
 */
const available = gpgAvailable();
if (!available) {
  console.warn("SKIPPED: GnuPG interop tests: gpg is not installed (apt-get install -y gnupg)");
}

const manifest = readFileSync(join(repoRoot, "releases/2.4.1/release.yaml"));

const tampered: Record<string, (bytes: Buffer) => Buffer> = {
  "one byte changed": (b) => Buffer.from(b.toString("utf8").replace("Memory leak", "Memory leek")),
  "CRLF line endings": (b) => Buffer.from(b.toString("utf8").replace(/\n/g, "\r\n")),
  "an added trailing newline": (b) => Buffer.concat([b, Buffer.from("\n")]),
};

describe.skipIf(!available)("GnuPG interop", () => {
  let gpg: Gpg;
  let dir: string;
  let pinlineKey: { armoredPrivateKey: string; fingerprint: string };
  let gpgFingerprint: string;
  let keysDir: string;

  beforeAll(async () => {
    gpg = new Gpg();
    dir = gpg.home;
    // Legacy EdDSA (algorithm 22): GnuPG 2.2 cannot read RFC 9580 Ed25519 keys (algorithm 27),
    // which is what openpgp v6 makes for type "curve25519".
    const generated = await openpgp.generateKey({
      type: "ecc",
      curve: "ed25519Legacy",
      userIDs: [{ name: "pinline interop signer", email: "pinline@interop.test" }],
      format: "armored",
    });
    const key = await openpgp.readKey({ armoredKey: generated.publicKey });
    pinlineKey = {
      armoredPrivateKey: generated.privateKey,
      fingerprint: key.getFingerprint().toUpperCase(),
    };
    gpg.import(generated.publicKey);
    gpgFingerprint = gpg.generateKey("gpg interop signer <gpg@interop.test>");
    keysDir = join(dir, "keys");
    mkdirSync(keysDir, { recursive: true });
    writeFileSync(join(keysDir, "gpg.asc"), gpg.exportPublic(gpgFingerprint));
    writeFileSync(join(keysDir, "pinline.asc"), generated.publicKey);
  });

  afterAll(() => gpg?.dispose());

  const keyring = async () => (await loadKeyring(keysDir)).keys;

  it("gpg verifies a signature pinline made (GOODSIG and VALIDSIG)", async () => {
    const data = join(dir, "release.yaml");
    writeFileSync(data, manifest);
    writeFileSync(`${data}.asc`, await signBytes({ bytes: manifest, ...pinlineKey }));
    const { code, status } = gpg.verify(`${data}.asc`, data);
    expect(code).toBe(0);
    expect(status.some((s) => s.startsWith("GOODSIG "))).toBe(true);
    expect(status.some((s) => s.startsWith(`VALIDSIG ${pinlineKey.fingerprint} `))).toBe(true);
  });

  it("pinline verifies a signature gpg made", async () => {
    const data = join(dir, "release.yaml");
    writeFileSync(data, manifest);
    gpg.detachSign(gpgFingerprint, data, `${data}.asc`);
    const result = await verifyBytes({
      bytes: manifest,
      armoredSignature: readFileSync(`${data}.asc`, "utf8"),
      keyring: await keyring(),
      threshold: 1,
    });
    expect(result.ok).toBe(true);
    expect(result.signatures).toMatchObject([
      { keyFingerprint: gpgFingerprint, verdict: "valid", reason: "good signature" },
    ]);
  });

  it("both verify a file that gpg and pinline signed together", async () => {
    const data = join(dir, "release.yaml");
    writeFileSync(data, manifest);
    gpg.detachSign(gpgFingerprint, data, `${data}.asc`);
    const both = await signBytes({
      bytes: manifest,
      ...pinlineKey,
      existingSignature: readFileSync(`${data}.asc`, "utf8"),
    });
    writeFileSync(`${data}.asc`, both);
    const { code, status } = gpg.verify(`${data}.asc`, data);
    expect(code).toBe(0);
    expect(status.filter((s) => s.startsWith("GOODSIG "))).toHaveLength(2);
    const result = await verifyBytes({
      bytes: manifest,
      armoredSignature: both,
      keyring: await keyring(),
      threshold: 2,
    });
    expect(result.validKeys.sort()).toEqual([gpgFingerprint, pinlineKey.fingerprint].sort());
    expect(result.ok).toBe(true);
  });

  describe.each(Object.entries(tampered))("on a manifest with %s", (_name, tamper) => {
    it.each(["pinline", "gpg"] as const)(
      "the two tools agree that a %s signature fails",
      async (signer) => {
        const data = join(dir, "release.yaml");
        writeFileSync(data, manifest);
        if (signer === "pinline")
          writeFileSync(`${data}.asc`, await signBytes({ bytes: manifest, ...pinlineKey }));
        else gpg.detachSign(gpgFingerprint, data, `${data}.asc`);
        const changed = tamper(manifest);
        writeFileSync(data, changed);

        const byGpg = gpg.verify(`${data}.asc`, data);
        const byPinline = await verifyBytes({
          bytes: changed,
          armoredSignature: readFileSync(`${data}.asc`, "utf8"),
          keyring: await keyring(),
          threshold: 1,
        });
        const gpgAccepts = byGpg.code === 0 && byGpg.status.some((s) => s.startsWith("GOODSIG "));
        expect({ gpgAccepts, pinlineAccepts: byPinline.ok }).toEqual({
          gpgAccepts: false,
          pinlineAccepts: false,
        });
        expect(byGpg.status.some((s) => s.startsWith("BADSIG "))).toBe(true);
        expect(byPinline.signatures[0]?.reason).toContain("does not match the manifest's bytes");
      },
    );
  });
});
