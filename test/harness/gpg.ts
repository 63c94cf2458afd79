import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether GnuPG is on this machine; the interop tests say why they skip when it is not. */
export function gpgAvailable(): boolean {
  return spawnSync("gpg", ["--version"], { encoding: "utf8" }).status === 0;
}

/** A throwaway GnuPG home: its own keyring, removed with `dispose`. */
export class Gpg {
  readonly home = mkdtempSync(join(tmpdir(), "pinline-gnupg-"));

  run(args: readonly string[], input?: string) {
    const result = spawnSync("gpg", ["--batch", "--no-tty", "--homedir", this.home, ...args], {
      encoding: "utf8",
      input,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  import(armored: string): void {
    const file = join(this.home, `import-${Date.now()}-${Math.random()}.asc`);
    writeFileSync(file, armored);
    const result = this.run(["--import", file]);
    if (result.code !== 0) throw new Error(`gpg --import failed: ${result.stderr}`);
  }

  /** `gpg --verify` with machine-readable status lines (GOODSIG, VALIDSIG, BADSIG, ...). */
  verify(signatureFile: string, dataFile: string): { code: number | null; status: string[] } {
    const result = this.run(["--status-fd", "1", "--verify", signatureFile, dataFile]);
    const status = result.stdout
      .split("\n")
      .filter((l) => l.startsWith("[GNUPG:] "))
      .map((l) => l.slice("[GNUPG:] ".length));
    return { code: result.code, status };
  }

  /** An Ed25519 signing key with no passphrase; returns its fingerprint. */
  generateKey(userId: string): string {
    const result = this.run([
      "--passphrase",
      "",
      "--quick-gen-key",
      userId,
      "ed25519",
      "sign",
      "1y",
    ]);
    if (result.code !== 0) throw new Error(`gpg --quick-gen-key failed: ${result.stderr}`);
    const listing = this.run(["--with-colons", "--list-keys", userId]).stdout;
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
    if (!fingerprint) throw new Error(`no fingerprint for ${userId}`);
    return fingerprint;
  }

  exportPublic(fingerprint: string): string {
    return this.run(["--armor", "--export", fingerprint]).stdout;
  }

  /** A detached, armored signature made by gpg itself. */
  detachSign(fingerprint: string, dataFile: string, signatureFile: string): void {
    const result = this.run([
      "--pinentry-mode",
      "loopback",
      "--passphrase",
      "",
      "--yes",
      "--local-user",
      fingerprint,
      "--armor",
      "--detach-sign",
      "--output",
      signatureFile,
      dataFile,
    ]);
    if (result.code !== 0) throw new Error(`gpg --detach-sign failed: ${result.stderr}`);
  }

  dispose(): void {
    // gpg-agent may still hold the home open; kill it before removing the folder.
    spawnSync("gpgconf", ["--homedir", this.home, "--kill", "all"]);
    rmSync(this.home, { recursive: true, force: true });
  }
}
