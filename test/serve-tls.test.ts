/**
 * The update server's transport (specification section 9.2): HTTPS with TLS 1.3 only, and mutual
 * TLS with a client CA — certificates made by the openssl CLI. Refusals happen in the handshake,
 * before any request is read; the feed's files reach a TUF client through the same mutual TLS.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openFeed } from "../src/feed/feed-client.js";
import { makeCertificates, type TestCertificates } from "./harness/certificates.js";
import { removeCopies } from "./harness/example-repo.js";
import type { PostgresTarget } from "./harness/postgres.js";
import {
  cleanUp,
  database,
  type ExampleFeed,
  exampleFeed,
  request,
  startServer,
  type TlsRequest,
  tempDir,
} from "./harness/update-server.js";

const target = inject("postgresTargets")[0] as PostgresTarget;

let certs: TestCertificates;
let feed: ExampleFeed;
let databaseUrl: string;

beforeAll(async () => {
  certs = makeCertificates();
  feed = await exampleFeed();
  databaseUrl = await database(target);
});

afterAll(async () => {
  await cleanUp();
  removeCopies();
});

const checkHeaders = { "X-Current-Version": "2.4.0", "X-Channel": "stable" };

describe("HTTPS", () => {
  let url: string;

  beforeAll(async () => {
    const server = await startServer({
      feed: feed.out,
      databaseUrl,
      tls: { cert: certs.server.certFile, key: certs.server.keyFile },
    });
    url = server.url;
  });

  it("listens on https and answers a TLS 1.3 client that trusts its CA", async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await request(`${url}/api/v1/updates/check`, {
      headers: checkHeaders,
      tls: { ca: certs.ca.cert },
    });
    expect(answer.status).toBe(200);
    expect(answer.json.version).toBe("2.4.1");
  });

  it("refuses a client that speaks at most TLS 1.2", async () => {
    await expect(
      request(`${url}/health/live`, { tls: { ca: certs.ca.cert, maxVersion: "TLSv1.2" } }),
    ).rejects.toThrow(/alert protocol version/);
  });

  it("is refused by a client that does not trust its certificate", async () => {
    await expect(request(`${url}/health/live`)).rejects.toThrow(
      /unable to verify the first certificate/,
    );
  });
});

describe("mutual TLS", () => {
  let url: string;

  beforeAll(async () => {
    const server = await startServer({
      feed: feed.out,
      databaseUrl,
      tls: {
        cert: certs.server.certFile,
        key: certs.server.keyFile,
        clientCa: certs.ca.certFile,
      },
    });
    url = server.url;
  });

  const installation = (): TlsRequest => ({
    ca: certs.ca.cert,
    cert: certs.client.cert,
    key: certs.client.key,
  });

  it("answers a client with a certificate the client CA signed", async () => {
    const check = await request(`${url}/api/v1/updates/check`, {
      headers: checkHeaders,
      tls: installation(),
    });
    expect(check.status).toBe(200);
    const status = await request(`${url}/api/v1/updates/status`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        version: "2.4.1",
        status: "completed",
        timestamp: "2024-03-15T10:00:00Z",
      }),
      tls: installation(),
    });
    expect(status.status).toBe(202);
  });

  it("refuses a client without a certificate", async () => {
    await expect(
      request(`${url}/api/v1/updates/check`, { headers: checkHeaders, tls: { ca: certs.ca.cert } }),
    ).rejects.toThrow(/alert certificate required/);
  });

  it("refuses a client whose certificate no trusted CA signed", async () => {
    await expect(
      request(`${url}/api/v1/updates/check`, {
        headers: checkHeaders,
        tls: { ca: certs.ca.cert, cert: certs.stranger.cert, key: certs.stranger.key },
      }),
    ).rejects.toThrow(/alert unknown ca|socket hang up|ECONNRESET/);
  });

  it("serves the feed to a TUF client through the same mutual TLS", async () => {
    const trustedRoot = join(feed.out, "metadata/1.root.json");
    const verified = await openFeed({
      feed: `${url}/feed`,
      trustedRoot,
      cacheDir: tempDir(),
      tls: { ca: certs.ca.cert, clientCert: certs.client.cert, clientKey: certs.client.key },
    });
    expect(verified.channels()).toContain("custom:acme");
    expect((await verified.readChannel("custom:acme")).releases.map((r) => r.version)).toEqual([
      "2.4.1",
    ]);
    await expect(
      openFeed({
        feed: `${url}/feed`,
        trustedRoot,
        cacheDir: tempDir(),
        tls: { ca: certs.ca.cert },
        timeoutMs: 5000,
      }),
    ).rejects.toThrow();
  });
});
