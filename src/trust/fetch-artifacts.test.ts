import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReleaseManifest } from "../core/schema-types.js";
import { fetchArtifacts } from "./fetch-artifacts.js";

/** A real HTTP server on loopback publishes the artifacts; some of it misbehaves on purpose. */
const body = Buffer.from("frontend bundle bytes\n");
const sha256 = createHash("sha256").update(body).digest("hex");
let server: Server;
let base: string;
let endlessBytesSent = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case "/frontend.tgz":
        response.writeHead(200, { "content-length": body.length }).end(body);
        return;
      case "/redirect":
        response.writeHead(302, { location: "/frontend.tgz" }).end();
        return;
      case "/wrong.tgz":
        response.writeHead(200).end(Buffer.from("frontend bundle bytez\n"));
        return;
      case "/announced-too-long.tgz":
        response.writeHead(200, { "content-length": 10_000_000 });
        response.write(body);
        return; // never finished: the client must not wait for the rest
      case "/endless.tgz": {
        // No content-length, and data for as long as the client reads.
        response.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024, 0x61);
        const pump = () => {
          while (!response.destroyed && response.write(chunk)) endlessBytesSent += chunk.length;
          if (!response.destroyed) response.once("drain", pump);
        };
        response.on("close", () => response.removeAllListeners("drain"));
        pump();
        return;
      }
      default:
        response.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function manifest(artifact: string, size = body.length, digest = sha256): ReleaseManifest {
  return {
    version: "2.4.2",
    channel: "stable",
    releaseDate: "2024-04-01T00:00:00Z",
    components: { frontend: { version: "2.4.2", artifact, sha256: digest, size } },
  };
}

async function only(artifact: string, size?: number) {
  const [verdict] = await fetchArtifacts({ manifest: manifest(artifact, size), timeoutMs: 10_000 });
  return verdict;
}

describe("fetchArtifacts checks components where they are published", () => {
  it("accepts a download whose size and sha256 match", async () => {
    expect(await only(`${base}/frontend.tgz`)).toMatchObject({
      verdict: "valid",
      actualSize: body.length,
      actualSha256: sha256,
    });
  });

  it("follows a redirect", async () => {
    expect((await only(`${base}/redirect`))?.verdict).toBe("valid");
  });

  it("refuses a download with the right size and the wrong bytes", async () => {
    expect(await only(`${base}/wrong.tgz`)).toMatchObject({
      verdict: "invalid",
      reason: expect.stringMatching(/^sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}$/),
    });
  });

  it("refuses a server that announces more than the manifest's size, without reading it", async () => {
    expect(await only(`${base}/announced-too-long.tgz`)).toMatchObject({
      verdict: "invalid",
      reason: `is longer than the manifest's size (${body.length} bytes): refused without reading further`,
    });
  });

  it("cuts off an endless download one byte past the manifest's size", async () => {
    const size = 100_000;
    const verdict = await only(`${base}/endless.tgz`, size);
    expect(verdict).toMatchObject({
      verdict: "invalid",
      reason: `is longer than the manifest's size (${size} bytes): refused without reading further`,
    });
    // The server keeps writing only while the client reads: a few socket buffers at most.
    expect(endlessBytesSent).toBeLessThan(size + 8 * 1024 * 1024);
  });

  it("reports an HTTP error", async () => {
    expect(await only(`${base}/gone.tgz`)).toMatchObject({
      verdict: "invalid",
      reason: "cannot be fetched: HTTP 404 Not Found",
    });
  });

  it("refuses plain http to anything but loopback", async () => {
    expect(await only("http://downloads.cm-diagnostics.example.com/frontend.tgz")).toMatchObject({
      verdict: "invalid",
      reason: "refused: plain http; artifacts are fetched over https only",
    });
  });

  it("leaves image references unchecked: their registry checks digests", async () => {
    expect(await only("ghcr.io/acme/cm-diagnostics-backend:2.4.2")).toMatchObject({
      verdict: "unchecked",
    });
  });
});
