import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyExample, type Run, removeCopies, repoRoot } from "./harness/example-repo.js";
import { Gpg, gpgAvailable } from "./harness/gpg.js";

/**
 * keys/ read whole (DESIGN §6: every armored block of every key file read, revocations
 * honoured), through the CLI as a user runs it: validate, keys list, verify and sign on copies
 * of the example repository, with keys and revocation certificates made by gpg.
 *
 * The CLI and the sign action run from dist/, as a user and the runner run them.
 */

const KEY_1 = join(repoRoot, "examples/signing-keys/cm-diagnostics-example-1.private.asc");
const KEY_2 = join(repoRoot, "examples/signing-keys/cm-diagnostics-example-2.private.asc");
const FPR_1 = "EF13F75E36F1146F2C0430C21D01C25370214718";
const KEY_FILE_1 = "keys/cm-diagnostics-example-1.asc";
const KEY_FILE_2 = "keys/cm-diagnostics-example-2.asc";
/** keys/cm-diagnostics-example-1.asc is 11 lines: a block appended to it begins on line 12. */
const APPENDED_LINE = readFileSync(join(repoRoot, KEY_FILE_1), "utf8").split("\n").length;

const gpgMissing = !gpgAvailable();
if (gpgMissing) {
  console.warn(
    "SKIPPED: keys/ tests that need gpg: it is not installed (apt-get install -y gnupg)",
  );
}

afterAll(removeCopies);

/** The committed bundles (`npm run check` keeps them in step with src/). */
const bin = join(repoRoot, "dist");

/** `pinline <args>` in `cwd`, as a user runs it. */
function pinline(args: readonly string[], cwd: string): Run {
  const result = spawnSync(process.execPath, [join(bin, "cli.js"), ...args], {
    cwd,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const errorsOf = (run: Run) => run.stdout.split("\n").filter((l) => l.includes(": error: "));

async function makeSigner(name: string) {
  return openpgp.generateKey({
    type: "ecc",
    curve: "ed25519Legacy",
    userIDs: [
      { name, email: `${name.toLowerCase().replace(/ /g, ".")}@cm-diagnostics.example.com` },
    ],
    format: "armored",
  });
}

/**
 * gpg --gen-revoke for an example key, answered as a user would: yes, 1 = "Key has been
 * compromised", a description, an empty line, yes. Made on 2026-11-28, after the key.
 */
function revocationCertificate(gpg: Gpg, privateKeyFile: string, fingerprint: string): string {
  gpg.import(readFileSync(privateKeyFile, "utf8"));
  const out = join(gpg.home, `revoke-${fingerprint}.asc`);
  const result = spawnSync(
    "gpg",
    [
      "--no-tty",
      "--homedir",
      gpg.home,
      "--command-fd",
      "0",
      "--faked-system-time",
      "20261128T000000!",
      "--pinentry-mode",
      "loopback",
      "--passphrase",
      "",
      "--output",
      out,
      "--gen-revoke",
      fingerprint,
    ],
    { input: "y\n1\nlaptop stolen\n\ny\n", encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`gpg --gen-revoke failed: ${result.stderr}`);
  return readFileSync(out, "utf8");
}

describe("pinline validate reads keys/", () => {
  it("passes the example's keys/, which hold one public key per file", () => {
    const run = pinline(["validate"], copyExample());
    expect(run.stdout).not.toContain("keys/");
    expect(run.code).toBe(0);
  });

  it("fails on a private key appended after a public block, at the line of its block", () => {
    const root = copyExample();
    appendFileSync(join(root, KEY_FILE_1), readFileSync(KEY_2, "utf8"));
    const run = pinline(["validate"], root);
    expect(errorsOf(run)).toEqual([
      `${KEY_FILE_1}:${APPENDED_LINE}:1: error: holds a PRIVATE key: only public keys belong in keys/, and no key of this file is trusted (remove it, export the public half with gpg --armor --export <fingerprint>, and treat the private key as leaked)`,
    ]);
    expect(run.code).toBe(1);
  });

  it("fails on a block that does not parse and on a revocation of a key not in keys/, and warns about stray text and unread files", async () => {
    const root = copyExample();
    const stranger = await openpgp.generateKey({
      userIDs: [{ name: "Stranger" }],
      format: "object",
    });
    const { publicKey: revoked } = await openpgp.revokeKey({
      key: stranger.privateKey,
      format: "object",
    });
    const certificate = (await revoked.getRevocationCertificate()) as string;
    writeFileSync(join(root, "keys/stranger-revoked.asc"), certificate);
    const damaged = readFileSync(join(root, KEY_FILE_2), "utf8").replace(/\n[A-Za-z]/, "\n!");
    writeFileSync(join(root, KEY_FILE_2), `Release manager 2, added in March\n\n${damaged}`);
    writeFileSync(join(root, "keys/carol.pub"), "a key exported under another name");
    const run = pinline(["validate"], root);
    const keyId = stranger.publicKey.getKeyID().toHex().toUpperCase();
    expect(errorsOf(run)).toEqual([
      `${KEY_FILE_2}:3:1: error: is not a readable OpenPGP public key: line 5 is not base64 (export the key again with gpg --armor --export <fingerprint>)`,
      `keys/stranger-revoked.asc:1:1: error: holds a revocation certificate for key ${keyId}, which is not among the trusted keys in keys/ (add the public key it revokes beside it, or remove the certificate)`,
    ]);
    expect(run.stdout).toContain(
      `${KEY_FILE_2}:1:1: warning: text outside the armored blocks is ignored (remove it: notes about the keys belong in keys/README.md)`,
    );
    expect(run.stdout).toContain(
      "keys/carol.pub:1:1: warning: is not read: only keys/*.asc files hold trusted keys (rename it to .asc if it is an ASCII-armored public key)",
    );
    expect(run.code).toBe(1);
  });
});

describe("pinline keys list reads keys/ whole", () => {
  it("fails on a private key block, names its line, and still lists the sound keys", () => {
    const root = copyExample();
    appendFileSync(join(root, KEY_FILE_1), readFileSync(KEY_1, "utf8"));
    const run = pinline(["keys", "list"], root);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `pinline: error: ${KEY_FILE_1}:${APPENDED_LINE}: holds a PRIVATE key: only public keys belong in keys/, and no key of this file is trusted (remove it, export the public half with gpg --armor --export <fingerprint>, and treat the private key as leaked)\n`,
    );
    const rows = run.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain("CM Diagnostics example release manager 2");
  });

  it("lists a second key in a second block, and two keys in one block, like the first", async () => {
    const root = copyExample();
    const [second, third, fourth] = await Promise.all(
      ["Second Signer", "Third Signer", "Fourth Signer"].map(makeSigner),
    );
    appendFileSync(join(root, KEY_FILE_1), `\n${second?.publicKey}`);
    const [a, b] = await Promise.all(
      [third, fourth].map((k) => openpgp.readKey({ armoredKey: k?.publicKey as string })),
    );
    const oneBlock = new Uint8Array([...(a?.write() ?? []), ...(b?.write() ?? [])]);
    writeFileSync(
      join(root, "keys/team.asc"),
      openpgp.armor(openpgp.enums.armor.publicKey, oneBlock),
    );
    const run = pinline(["keys", "list", "--json"], root);
    expect(run.code).toBe(0);
    const listed = JSON.parse(run.stdout) as {
      keys: { file: string; userIds: string[]; problem?: string }[];
      problems: unknown[];
    };
    expect(listed.problems).toEqual([]);
    expect(listed.keys.map((k) => [k.file, k.userIds[0]?.split(" <")[0], k.problem])).toEqual([
      [
        KEY_FILE_1,
        "CM Diagnostics example release manager 1 (EXAMPLE ONLY, never trust)",
        undefined,
      ],
      [KEY_FILE_1, "Second Signer", undefined],
      [
        KEY_FILE_2,
        "CM Diagnostics example release manager 2 (EXAMPLE ONLY, never trust)",
        undefined,
      ],
      ["keys/team.asc", "Third Signer", undefined],
      ["keys/team.asc", "Fourth Signer", undefined],
    ]);
  });
});

describe.skipIf(gpgMissing)(
  "a revocation certificate from gpg --gen-revoke, appended to a key file",
  () => {
    let gpg: Gpg;
    let certificate: string;

    beforeAll(() => {
      gpg = new Gpg();
      certificate = revocationCertificate(gpg, KEY_1, FPR_1);
    });

    afterAll(() => gpg?.dispose());

    it("shows the key as revoked in keys list, which no longer lets it sign", () => {
      const root = copyExample();
      appendFileSync(join(root, KEY_FILE_1), certificate);
      const run = pinline(["keys", "list"], root);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const row = run.stdout.split("\n").find((l) => l.startsWith(FPR_1));
      expect(row).toMatch(
        /\s2026-11-28 \(key compromised: laptop stolen\)\s+no: revoked on 2026-11-28 \(key compromised: laptop stolen\)$/,
      );
    });

    it("makes verify refuse the key's signatures, and validate accept the certificate", () => {
      const root = copyExample();
      appendFileSync(join(root, KEY_FILE_1), `\n${certificate}`);
      const verified = pinline(["verify", "releases/2.4.1"], root);
      expect(verified.code).toBe(1);
      expect(verified.stdout.split("\n")[0]).toBe(
        `releases/2.4.1/release.yaml: error: only 1 of 2 required signatures from distinct trusted keys: key ${FPR_1} was revoked on 2026-11-28 (key compromised: laptop stolen), which voids its signatures whatever their date`,
      );
      expect(verified.stderr).toBe("");
      const validated = pinline(["validate"], root);
      expect(validated.stdout).not.toContain("keys/");
      expect(validated.code).toBe(0);
    });

    it("makes sign warn that the signature will not count, and sign all the same", () => {
      const root = copyExample();
      appendFileSync(join(root, KEY_FILE_1), certificate);
      rmSync(join(root, "releases/2.4.0/release.yaml.asc"));
      const run = pinline(["sign", "releases/2.4.0", "--key", KEY_1], root);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe("signed: releases/2.4.0/release.yaml.asc now holds 1 signature\n");
      expect(run.stderr).toBe(
        `pinline: warning: key ${FPR_1}, as ${KEY_FILE_1} holds it, cannot sign: revoked on 2026-11-28 (key compromised: laptop stolen); this signature will not count\n`,
      );
    });
  },
);

describe("pinline verify reads keys/ whole", () => {
  it("counts a signer whose key is the second block of another signer's file", async () => {
    const root = copyExample();
    const second = await makeSigner("Second Signer");
    appendFileSync(join(root, KEY_FILE_1), `\n${second.publicKey}`);
    unlinkSync(join(root, KEY_FILE_2));
    const secondKey = join(root, "second.private.asc");
    writeFileSync(secondKey, second.privateKey);
    rmSync(join(root, "releases/2.4.1/release.yaml.asc"));
    expect(pinline(["sign", "releases/2.4.1", "--key", KEY_1], root).code).toBe(0);
    expect(pinline(["sign", "releases/2.4.1", "--key", secondKey], root).code).toBe(0);
    const run = pinline(["verify", "releases/2.4.1"], root);
    expect(run.stdout.split("\n")[0]).toMatch(
      /^releases\/2\.4\.1\/release\.yaml: verified: 2 of 2 required signatures from distinct trusted keys(;|$)/,
    );
    expect(run.code).toBe(0);
  });

  it("verifies nothing while keys/ holds a private key, even in a file of no signer", () => {
    const root = copyExample();
    writeFileSync(join(root, "keys/leaked.asc"), readFileSync(KEY_2, "utf8"));
    const run = pinline(["verify", "releases/2.4.1"], root);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^releases\/2\.4\.1\/release\.yaml: error: keys\/ cannot be trusted as it stands: keys\/leaked\.asc:1: holds a PRIVATE key/,
    );
    expect(run.stderr).toMatch(/^pinline: error: keys\/leaked\.asc:1: holds a PRIVATE key/m);
  });

  it("refuses a key file that is a link, without reading it", () => {
    const root = copyExample();
    const outside = mkdtempSync(join(tmpdir(), "pinline-outside-"));
    writeFileSync(join(outside, "stranger.asc"), readFileSync(join(root, KEY_FILE_2)));
    symlinkSync(join(outside, "stranger.asc"), join(root, "keys/stranger.asc"));
    const validated = pinline(["validate"], root);
    const verified = pinline(["verify", "releases/2.4.1"], root);
    rmSync(outside, { recursive: true, force: true });
    expect(validated.stdout).toContain(
      "keys/stranger.asc:1:1: error: is a symbolic link, not a regular file, so pinline does not read it",
    );
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain(
      "keys/ cannot be trusted as it stands: keys/stranger.asc: is a symbolic link, not a regular file",
    );
  });

  it("trusts no key of a file that holds a private key, and reports it with its line", () => {
    const root = copyExample();
    appendFileSync(join(root, KEY_FILE_1), readFileSync(KEY_1, "utf8"));
    const run = pinline(["verify", "releases/2.4.1", "--json"], root);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as {
      ok: boolean;
      signatures: { signatures: { reason: string }[] };
      keyProblems: unknown[];
    };
    expect(result.ok).toBe(false);
    expect(result.signatures.signatures.map((s) => s.reason)).toContain(
      `signed by key ${FPR_1.slice(-16)}, which is not in keys/`,
    );
    expect(result.keyProblems).toEqual([
      {
        file: KEY_FILE_1,
        line: APPENDED_LINE,
        severity: "error",
        reason: expect.stringMatching(/^holds a PRIVATE key: only public keys belong in keys\//),
      },
    ]);
  });
});

describe("pinline sign with a key that keys/ does not hold", () => {
  it("warns on stderr that the signature will not count until the key is added, and signs", async () => {
    const root = copyExample();
    const outsider = await makeSigner("Outsider");
    const keyFile = join(root, "outsider.private.asc");
    writeFileSync(keyFile, outsider.privateKey);
    const fingerprint = (await openpgp.readKey({ armoredKey: outsider.publicKey }))
      .getFingerprint()
      .toUpperCase();
    rmSync(join(root, "releases/2.4.0/release.yaml.asc"));
    const warning = `key ${fingerprint} is not in keys/: this signature will not count until the key is trusted (pinline keys add <its public key file>, merged through a reviewed pull request)`;

    const run = pinline(["sign", "releases/2.4.0", "--key", keyFile], root);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(`pinline: warning: ${warning}\n`);
    expect(run.stdout).toBe("signed: releases/2.4.0/release.yaml.asc now holds 1 signature\n");
    expect(readFileSync(join(root, "releases/2.4.0/release.yaml.asc"), "utf8")).toMatch(
      /^-----BEGIN PGP SIGNATURE-----/,
    );

    const json = pinline(["sign", "releases/2.4.0", "--key", KEY_1, "--json"], root);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, signatures: 2, warnings: [] });
    expect(json.stderr).toBe("");
  });

  it("warns in the action's annotations and summary, and signs", async () => {
    const root = copyExample();
    const outsider = await makeSigner("Action Outsider");
    rmSync(join(root, "releases/2.4.0/release.yaml.asc"));
    const runner = mkdtempSync(join(tmpdir(), "pinline-keyring-runner-"));
    const output = join(runner, "output");
    const summary = join(runner, "summary");
    writeFileSync(output, "");
    writeFileSync(summary, "");
    const result = spawnSync(process.execPath, [join(bin, "sign.js")], {
      cwd: root,
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        GITHUB_ACTIONS: "true",
        GITHUB_WORKSPACE: root,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
        INPUT_RELEASE: "releases/2.4.0",
        "INPUT_PRIVATE-KEY": outsider.privateKey,
        INPUT_PASSPHRASE: "",
        INPUT_ROOT: ".",
      },
    });
    try {
      expect(result.status).toBe(0);
      const annotation = result.stdout
        .split("\n")
        .find((l) => l.startsWith("::warning title=pinline sign::"));
      expect(annotation).toMatch(
        /::key [0-9A-F]{40} is not in keys\/: this signature will not count/,
      );
      expect(readFileSync(summary, "utf8")).toMatch(
        /> \[!WARNING\]\n> key [0-9A-F]{40} is not in keys\/: this signature will not count/,
      );
      expect(readFileSync(output, "utf8")).toContain("signatures");
    } finally {
      rmSync(runner, { recursive: true, force: true });
    }
  });
});
