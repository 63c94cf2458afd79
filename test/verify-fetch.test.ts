/**
 * `pinline verify --fetch` downloads each component published at an https URL and checks it
 * against the signed manifest's size and sha256 — in the CLI bundle as a user runs it, against
 * a real TLS server on loopback whose CA the process trusts through NODE_EXTRA_CA_CERTS (as an
 * operator with a private CA does). A redirect from https to plain http is refused: anyone on
 * the path could change the bytes.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCertificates, type TestCertificates } from "./harness/certificates.js";
import {
  copyExample,
  edit,
  removeCopies,
  repoRoot,
  runPinlineAsync,
} from "./harness/example-repo.js";

const body = Buffer.from("CM Diagnostics frontend 2.4.1 bundle\n");
const sha256 = createHash("sha256").update(body).digest("hex");
let certificates: TestCertificates;
let tls: Server;
let plain: HttpServer;
let base: string;
let plainBase: string;

beforeAll(async () => {
  certificates = makeCertificates();
  plain = createHttpServer((_request, response) => {
    response.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  plainBase = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  tls = createServer(
    { cert: certificates.server.cert, key: certificates.server.key },
    (request, response) => {
      if (request.url === "/frontend.tgz") {
        response.writeHead(200, { "content-length": body.length }).end(body);
      } else if (request.url === "/moved") {
        response.writeHead(301, { location: "/frontend.tgz" }).end();
      } else if (request.url === "/to-plain-http") {
        response.writeHead(302, { location: `${plainBase}/frontend.tgz` }).end();
      } else {
        response.writeHead(404).end();
      }
    },
  );
  await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
});

afterAll(() => {
  tls?.closeAllConnections();
  tls?.close();
  plain?.closeAllConnections();
  plain?.close();
  if (certificates) rmSync(certificates.dir, { recursive: true, force: true });
  removeCopies();
});

/** A copy of the example whose 2.4.1 frontend is published at `path` on the TLS server, signed again. */
async function releaseAt(path: string): Promise<string> {
  const root = copyExample();
  edit(root, "releases/2.4.1/release.yaml", (t) =>
    t.replace(
      /frontend:\n( {4}version: "2\.4\.1"\n) {4}artifact: "[^"]+"\n {4}sha256: "[0-9a-f]+"\n {4}size: \d+/,
      `frontend:\n$1    artifact: "${base}${path}"\n    sha256: "${sha256}"\n    size: ${body.length}`,
    ),
  );
  rmSync(join(root, "releases/2.4.1/release.yaml.asc"));
  for (const key of ["cm-diagnostics-example-1", "cm-diagnostics-example-2"]) {
    const keyFile = join(repoRoot, `examples/signing-keys/${key}.private.asc`);
    const signed = await runPinlineAsync(
      ["sign", "releases/2.4.1", "--key", keyFile, "--root", root],
      {
        cwd: root,
      },
    );
    expect(signed.code, signed.stderr).toBe(0);
  }
  return root;
}

function verifyFetch(root: string) {
  return runPinlineAsync(["verify", "releases/2.4.1", "--fetch", "--root", root], {
    cwd: root,
    env: { NODE_EXTRA_CA_CERTS: certificates.ca.certFile },
  });
}

describe("pinline verify --fetch", () => {
  it("downloads the https component, following a redirect that stays on https, and checks it", async () => {
    const root = await releaseAt("/moved");
    const run = await verifyFetch(root);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /✓ {2}frontend +https:\/\/127\.0\.0\.1:\d+\/moved +37 +[0-9a-f]{12}… {2}size \(37 bytes\) and sha256 match/,
    );
    expect(run.stdout).toMatch(/backend .*not fetched: an image reference/);
    expect(run.stdout).toContain("1 artifact match");
  });

  it("refuses an https URL that redirects to plain http", async () => {
    const root = await releaseAt("/to-plain-http");
    const run = await verifyFetch(root);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /component frontend \(https:\/\/127\.0\.0\.1:\d+\/to-plain-http\): refused: https:\/\/127\.0\.0\.1:\d+\/to-plain-http redirects to http \(http:\/\/127\.0\.0\.1:\d+\/frontend\.tgz\); an https download must stay on https/,
    );
  });

  it("is refused beside --artifacts: one source of components at a time", async () => {
    const root = copyExample();
    const run = await runPinlineAsync(
      ["verify", "releases/2.4.1", "--fetch", "--artifacts", root, "--root", root],
      { cwd: root },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "--artifacts and --fetch both name where the components come from",
    );
  });
});
