import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyringErrors, loadKeyring } from "../src/trust/keyring.js";
import { signBytes } from "../src/trust/sign-manifest.js";
import { verifyBytes } from "../src/trust/verify-manifest.js";
import { repoRoot } from "./harness/example-repo.js";
import { Gpg, gpgAvailable } from "./harness/gpg.js";

/**
 * GnuPG interop, both directions (issue 3, item 7): what pinline signs, gpg verifies; what gpg
 * signs, pinline verifies; and on a tampered manifest the two must agree that it is tampered.
 * Then keys as gpg makes them: signing subkeys that expire or are revoked, and revocation
 * certificates appended to a key file (DESIGN §6).
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

/** An instant as --faked-system-time takes it (UTC), frozen by the "!". */
const fakedTime = (iso: string) => `${iso.replace(/[-:]/g, "").slice(0, 15)}!`;

describe.skipIf(!available)("GnuPG keys: signing subkeys and revocation certificates", () => {
  let gpg: Gpg;
  let data: string;
  const NOW = new Date("2026-06-01T00:00:00Z");
  const BEFORE = "2026-01-10T00:00:00";
  const AFTER = "2026-03-01T00:00:00";

  beforeAll(() => {
    gpg = new Gpg();
    data = join(gpg.home, "release.yaml");
    writeFileSync(data, manifest);
  });

  afterAll(() => gpg?.dispose());

  /** gpg at a faked time, with no passphrase; throws with gpg's words when it fails. */
  function gpgAt(iso: string, args: readonly string[]): string {
    const result = gpg.run([
      "--faked-system-time",
      fakedTime(iso),
      "--pinentry-mode",
      "loopback",
      "--passphrase",
      "",
      ...args,
    ]);
    if (result.code !== 0) throw new Error(`gpg ${args.join(" ")} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** gpg's prompts answered line by line (--gen-revoke and --edit-key refuse --batch). */
  function gpgAnswering(iso: string, args: readonly string[], answers: string[]): void {
    const result = spawnSync(
      "gpg",
      [
        "--no-tty",
        "--homedir",
        gpg.home,
        "--command-fd",
        "0",
        "--faked-system-time",
        fakedTime(iso),
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        ...args,
      ],
      { input: `${answers.join("\n")}\n`, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`gpg ${args.join(" ")} failed: ${result.stderr}`);
  }

  /** A certify-only primary key and one signing subkey, both made on 2026-01-01. */
  function makeSigner(
    email: string,
    subkeyExpires = "never",
  ): { fingerprint: string; subkey: string; keyId: string } {
    gpgAt("2026-01-01T00:00:00", [
      "--quick-gen-key",
      `Release Manager <${email}>`,
      "ed25519",
      "cert",
      "never",
    ]);
    const fingerprint = fingerprints(email)[0] as string;
    gpgAt("2026-01-01T00:00:00", [
      "--quick-add-key",
      fingerprint,
      "ed25519",
      "sign",
      subkeyExpires,
    ]);
    const subkey = fingerprints(email)[1] as string;
    return { fingerprint, subkey, keyId: subkey.slice(-16) };
  }

  function fingerprints(email: string): string[] {
    const listing = gpg.run(["--with-colons", "--list-keys", email]).stdout;
    return [...listing.matchAll(/^fpr:+([0-9A-F]{40}):/gm)].map((m) => m[1] as string);
  }

  /** A detached signature gpg makes at `iso` with the key's signing subkey. */
  function signAt(iso: string, fingerprint: string): string {
    const out = join(gpg.home, `sig-${Date.now()}-${Math.random()}.asc`);
    gpgAt(iso, [
      "--yes",
      "--local-user",
      fingerprint,
      "--armor",
      "--detach-sign",
      "--output",
      out,
      data,
    ]);
    return readFileSync(out, "utf8");
  }

  /** Verifies with keys/ as it stands in `dir`, on 2026-06-01. */
  async function verifyWith(dir: string, armoredSignature: string) {
    const keyring = await loadKeyring(dir);
    const result = await verifyBytes({
      bytes: manifest,
      armoredSignature,
      keyring: keyring.keys,
      threshold: 1,
      now: NOW,
    });
    return { problems: keyring.problems, ...result };
  }

  function keysDirWith(name: string, contents: string): string {
    const dir = join(gpg.home, `keys-${name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, `${name}.asc`), contents);
    return dir;
  }

  it("refuses a signature by a subkey that had expired before the signature was made, and accepts one made before", async () => {
    const signer = makeSigner("expiring@interop.test", "15d");
    // keys/ pins the key as exported now: its signing subkey expires on 2026-01-16.
    const dir = keysDirWith("expiring", gpg.exportPublic(signer.fingerprint));
    const before = signAt(BEFORE, signer.fingerprint);
    // On 2026-03-01 the signer extends the subkey on their machine only, and signs.
    gpgAt(AFTER, ["--quick-set-expire", signer.fingerprint, "1y", signer.subkey]);
    const after = signAt(AFTER, signer.fingerprint);

    const early = await verifyWith(dir, before);
    expect(early.problems).toEqual([]);
    expect(early.signatures[0]).toMatchObject({
      keyFingerprint: signer.fingerprint,
      signingKeyId: signer.keyId,
      reason: "good signature",
    });
    expect(early.ok).toBe(true);
    const late = await verifyWith(dir, after);
    expect(late.ok).toBe(false);
    expect(late.signatures[0]?.reason).toBe(
      `signed by subkey ${signer.keyId}, which expired on 2026-01-16, before the signature was made on 2026-03-01T00:00:00Z`,
    );
  });

  it("after gpg changes a subkey's expiry, refuses the subkey's earlier signatures and says to sign again", async () => {
    const signer = makeSigner("refreshed@interop.test");
    const pinned = gpg.exportPublic(signer.fingerprint);
    const before = signAt(BEFORE, signer.fingerprint);
    expect((await verifyWith(keysDirWith("refreshed", pinned), before)).ok).toBe(true);
    // gpg replaces the subkey's binding signature with one dated 2026-01-15.
    gpgAt("2026-01-15T00:00:00", ["--quick-set-expire", signer.fingerprint, "1y", signer.subkey]);
    const refreshed = gpg.exportPublic(signer.fingerprint);
    const refusal = `signed by subkey ${signer.keyId}, which was not yet bound to its primary key: its binding signature is dated 2026-01-15T00:00:00Z, after the signature (gpg replaces a subkey's binding signature when its expiry changes, and openpgp keeps only the newest: sign the release again)`;
    for (const keys of [refreshed, `${pinned}${refreshed}`]) {
      const result = await verifyWith(keysDirWith("refreshed", keys), before);
      expect(result.problems).toEqual([]);
      expect(result.ok).toBe(false);
      expect(result.signatures[0]?.reason).toBe(refusal);
    }
  });

  it("after gpg changes a key's expiry, refuses its earlier signatures unless keys/ keeps the earlier copy too", async () => {
    gpgAt("2026-01-01T00:00:00", [
      "--quick-gen-key",
      "Primary Signer <primary@interop.test>",
      "ed25519",
      "sign",
      "never",
    ]);
    const [fingerprint] = fingerprints("primary@interop.test");
    if (!fingerprint) throw new Error("no key");
    const before = signAt(BEFORE, fingerprint);
    expect(
      (await verifyWith(keysDirWith("primary", gpg.exportPublic(fingerprint)), before)).ok,
    ).toBe(true);
    // gpg replaces the user id's self-signature with one dated 2026-01-15.
    const pinned = gpg.exportPublic(fingerprint);
    gpgAt("2026-01-15T00:00:00", ["--quick-set-expire", fingerprint, "1y"]);
    const refreshed = gpg.exportPublic(fingerprint);
    const both = await verifyWith(keysDirWith("primary", `${pinned}${refreshed}`), before);
    expect(both.signatures[0]?.reason).toBe("good signature");
    const result = await verifyWith(keysDirWith("primary", refreshed), before);
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      `key ${fingerprint} had no self-signature yet: its self-signature is dated 2026-01-15T00:00:00Z, after 2026-01-10T00:00:00Z (gpg replaces a key's self-signature when its expiry changes: keep the earlier copy of the key in keys/ beside the new one, or sign the release again)`,
    );
  });

  it("refuses a signature by a subkey superseded before the signature was made, and accepts one made before", async () => {
    const signer = makeSigner("superseded@interop.test");
    const before = signAt(BEFORE, signer.fingerprint);
    const after = signAt(AFTER, signer.fingerprint);
    // gpg's menu: 2 = "Key is superseded"; then the description, an empty line, and yes.
    gpgAnswering(
      "2026-02-01T00:00:00",
      ["--edit-key", signer.fingerprint],
      ["key 1", "revkey", "y", "2", "moved to a new subkey", "", "y", "save"],
    );
    const dir = keysDirWith("superseded", gpg.exportPublic(signer.fingerprint));

    const early = await verifyWith(dir, before);
    expect(early.signatures[0]?.reason).toBe("good signature");
    expect(early.ok).toBe(true);
    const late = await verifyWith(dir, after);
    expect(late.ok).toBe(false);
    expect(late.signatures[0]?.reason).toBe(
      `signed by subkey ${signer.keyId}, which was revoked on 2026-02-01 (key superseded: moved to a new subkey), before the signature was made on 2026-03-01T00:00:00Z`,
    );
  });

  it("refuses every signature of a subkey revoked as compromised, whatever its date", async () => {
    const signer = makeSigner("compromised@interop.test");
    const before = signAt(BEFORE, signer.fingerprint);
    // 1 = "Key has been compromised".
    gpgAnswering(
      "2026-02-01T00:00:00",
      ["--edit-key", signer.fingerprint],
      ["key 1", "revkey", "y", "1", "", "y", "save"],
    );
    const result = await verifyWith(
      keysDirWith("compromised", gpg.exportPublic(signer.fingerprint)),
      before,
    );
    expect(result.ok).toBe(false);
    expect(result.signatures[0]?.reason).toBe(
      `signed by subkey ${signer.keyId}, which was revoked on 2026-02-01 (key compromised): a hard revocation voids its signatures whatever their date`,
    );
  });

  describe("a revocation certificate from gpg --gen-revoke", () => {
    let signer: { fingerprint: string };
    let signature: string;
    let certificate: string;

    beforeAll(() => {
      signer = makeSigner("revoked@interop.test");
      signature = signAt(BEFORE, signer.fingerprint);
      const out = join(gpg.home, "revoke.asc");
      // y: create it; 1 = "Key has been compromised"; a description, an empty line; y: okay.
      gpgAnswering(
        "2026-02-01T00:00:00",
        ["--output", out, "--gen-revoke", signer.fingerprint],
        ["y", "1", "laptop stolen", "", "y"],
      );
      certificate = readFileSync(out, "utf8");
    });

    it("is a public key block that holds only the revocation signature", () => {
      expect(certificate).toMatch(
        /^-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: This is a revocation certificate\n/,
      );
      const packets = gpg.run(["--list-packets"], certificate).stdout;
      expect(packets).toContain("sigclass 0x20");
      expect(packets).not.toMatch(/:public key packet:/);
    });

    it("appended to the key's file, is applied: the key's signatures no longer count", async () => {
      const key = gpg.exportPublic(signer.fingerprint);
      const unrevoked = await verifyWith(keysDirWith("revoked", key), signature);
      expect(unrevoked.ok).toBe(true);
      const revoked = await verifyWith(keysDirWith("revoked", `${key}\n${certificate}`), signature);
      expect(revoked.problems).toEqual([]);
      expect(revoked.ok).toBe(false);
      expect(revoked.signatures[0]?.reason).toBe(
        `key ${signer.fingerprint} was revoked on 2026-02-01 (key compromised: laptop stolen), which voids its signatures whatever their date`,
      );
    });

    it("as gpg stores it (disabled by a ':'), is reported and not applied", async () => {
      const stored = readFileSync(
        join(gpg.home, "openpgp-revocs.d", `${signer.fingerprint}.rev`),
        "utf8",
      );
      expect(stored).toContain(":-----BEGIN PGP PUBLIC KEY BLOCK-----");
      const key = gpg.exportPublic(signer.fingerprint);
      const result = await verifyWith(keysDirWith("stored", `${key}\n${stored}`), signature);
      expect(result.ok).toBe(true);
      const [error] = keyringErrors(result.problems);
      expect(error?.file).toBe("keys-stored/stored.asc");
      expect(error?.line).toBe(
        key.trimEnd().split("\n").length +
          1 +
          stored.split("\n").findIndex((l) => l.startsWith(":-----BEGIN")) +
          1,
      );
      expect(error?.reason).toMatch(
        /^this block is not read: ":" comes before its -----BEGIN marker/,
      );
    });

    it("for a key that is not in keys/, is an error at its line", async () => {
      const other = gpg.generateKey("Other Signer <other@interop.test>");
      const result = await verifyWith(
        keysDirWith("unknown", `${gpg.exportPublic(other)}\n${certificate}`),
        signature,
      );
      const at = gpg.exportPublic(other).trimEnd().split("\n").length + 2;
      expect(keyringErrors(result.problems)).toEqual([
        {
          file: "keys-unknown/unknown.asc",
          line: at,
          severity: "error",
          reason: `holds a revocation certificate for key ${signer.fingerprint.slice(-16)}, which is not among the trusted keys in keys/ (add the public key it revokes beside it, or remove the certificate)`,
        },
      ]);
    });
  });
});
