/**
 * Certificates for TLS tests, made by the openssl CLI (as an operator would): a CA, a server
 * certificate for 127.0.0.1 and localhost signed by it, a client certificate signed by it, and a
 * self-signed client certificate no CA vouches for.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pem {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestCertificates {
  dir: string;
  ca: Pem;
  server: Pem;
  client: Pem;
  /** Self-signed: no CA vouches for it. */
  stranger: Pem;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

function pem(dir: string, name: string): Pem {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return {
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
    certFile,
    keyFile,
  };
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** Signs `<name>.csr` with the CA, with the given extensions. */
function sign(dir: string, name: string, subject: string, extensions: string): void {
  openssl(dir, [
    "req",
    "-new",
    ...KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    subject,
  ]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-sha256",
    "-extfile",
    `${name}.ext`,
  ]);
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "pinline-certs-"));
  const selfSigned = (name: string, subject: string, extra: string[] = []) =>
    openssl(dir, [
      "req",
      "-x509",
      ...KEY,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      "-days",
      "2",
      "-subj",
      subject,
      ...extra,
    ]);
  selfSigned("ca", "/CN=pinline test CA", [
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  sign(
    dir,
    "server",
    "/CN=localhost",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  sign(dir, "client", "/CN=installation-1", "extendedKeyUsage=clientAuth\n");
  selfSigned("stranger", "/CN=stranger", ["-addext", "extendedKeyUsage=clientAuth"]);
  return {
    dir,
    ca: pem(dir, "ca"),
    server: pem(dir, "server"),
    client: pem(dir, "client"),
    stranger: pem(dir, "stranger"),
  };
}

/** The HPKP-style pin of a certificate file, computed by openssl (base64 SHA-256 of the SPKI). */
export function opensslPin(certFile: string): string {
  const spki = execFileSync("openssl", ["x509", "-in", certFile, "-pubkey", "-noout"]);
  const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: spki });
  return execFileSync("openssl", ["dgst", "-sha256", "-binary"], { input: der }).toString("base64");
}
