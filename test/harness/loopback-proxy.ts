/**
 * A reverse proxy on 127.0.0.1 in front of several upstreams, as a load balancer stands in front
 * of server instances: each request goes to the next upstream in turn (round-robin), with
 * X-Forwarded-For naming the client (appended to the one it sent, as proxies do); the answer's
 * status, headers and body come back as they arrive — an event stream passes through
 * unbuffered — and when the client goes, the upstream request is closed. It counts the requests
 * each upstream was sent, so a test can show every upstream served some. node:http only.
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface LoopbackProxy {
  /** Where clients send requests: http://127.0.0.1:PORT. */
  url: string;
  /** The upstreams' base URLs, in turn order. */
  upstreams: readonly string[];
  /** Requests sent to each upstream so far, by the upstreams' index. */
  served: readonly number[];
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** Headers of one hop only (RFC 9110 section 7.6.1): a proxy does not pass them on. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** The headers without the hop-by-hop ones, those the Connection header names included. */
function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase());
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.includes(name)) kept[name] = value;
  }
  return kept;
}

/** "203.0.113.9" + client 127.0.0.2 → "203.0.113.9, 127.0.0.2" (node joins repeated headers). */
function forwardedFor(headers: IncomingHttpHeaders, client: string | undefined): string {
  return [headers["x-forwarded-for"], client].filter(Boolean).join(", ");
}

export function startLoopbackProxy(upstreams: readonly string[]): Promise<LoopbackProxy> {
  if (upstreams.length === 0) throw new Error("a proxy needs at least one upstream");
  const served = upstreams.map(() => 0);
  let turn = 0;
  const server = http.createServer((incoming, outgoing) => {
    const index = turn++ % upstreams.length;
    served[index] = (served[index] ?? 0) + 1;
    const upstream = new URL(upstreams[index] as string);
    const sent = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: incoming.method,
      path: incoming.url,
      headers: {
        ...endToEnd(incoming.headers),
        "x-forwarded-for": forwardedFor(incoming.headers, incoming.socket.remoteAddress),
      },
      agent: false,
    });
    sent.on("response", (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      outgoing.flushHeaders();
      answer.pipe(outgoing); // chunk by chunk, as the upstream writes them
      answer.on("error", () => outgoing.destroy());
    });
    sent.on("error", () => {
      if (outgoing.headersSent || outgoing.destroyed) outgoing.destroy();
      else outgoing.writeHead(502, { "content-type": "text/plain" }).end("bad gateway\n");
    });
    // The client went (or the answer is complete): the upstream request goes too.
    outgoing.on("close", () => sent.destroy());
    incoming.pipe(sent);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        upstreams,
        served,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
