#!/usr/bin/env node
// A tiny stand-in for the CM Diagnostics platform: health endpoints, Prometheus metrics fed by
// its own synthetic traffic, and an admin endpoint that switches the running version (what a
// deploy does). Plain Node, no dependencies. See README.md beside this file.
//
//   node examples/cm-service/server.mjs --port 0 --version 2.4.0 [--bad-versions 2.4.2]
//        [--unready-versions 2.4.3] [--host 127.0.0.1] [--tick-ms 100] [--requests-per-tick 50]
//
// When listening it prints one JSON line on stdout: {"url":"http://127.0.0.1:PORT"}.
import { createServer, STATUS_CODES } from "node:http";
import { parseArgs } from "node:util";

const USAGE =
  "usage: server.mjs [--port N] [--host H] [--version V] [--bad-versions V,V] [--unready-versions V,V] [--tick-ms MS] [--requests-per-tick N]";

/** Histogram bucket upper bounds, in seconds (+Inf is implied). */
const BUCKETS = [0.05, 0.1, 0.2, 0.5, 1];
/** A version as pinline writes them: 2.4.1, 2.5.0-beta.3. */
const VERSION_PATTERN = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

function fail(message) {
  process.stderr.write(`cm-service: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: "string", default: "0" },
        host: { type: "string", default: "127.0.0.1" },
        version: { type: "string", default: "2.4.0" },
        "bad-versions": { type: "string", default: "2.4.2" },
        "unready-versions": { type: "string", default: "" },
        "tick-ms": { type: "string", default: "100" },
        "requests-per-tick": { type: "string", default: "50" },
      },
      strict: true,
    }).values;
  } catch (error) {
    fail(error.message);
  }
  const list = (text) =>
    text
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
  const whole = (name, min) => {
    const value = Number(parsed[name]);
    if (!Number.isInteger(value) || value < min) fail(`--${name} must be a whole number >= ${min}`);
    return value;
  };
  if (!VERSION_PATTERN.test(parsed.version)) fail(`--version ${parsed.version} is not a version`);
  return {
    port: whole("port", 0),
    host: parsed.host,
    version: parsed.version,
    badVersions: new Set(list(parsed["bad-versions"])),
    unreadyVersions: new Set(list(parsed["unready-versions"])),
    tickMs: whole("tick-ms", 1),
    requestsPerTick: whole("requests-per-tick", 0),
  };
}

const options = readOptions();
let version = options.version;

// --- metrics -------------------------------------------------------------------------------

const requestsByCode = new Map([
  ["200", 0],
  ["500", 0],
]);
const bucketCounts = BUCKETS.map(() => 0);
let durationCount = 0;
let durationSum = 0;
/** Position in the deterministic round-robin pattern of synthetic requests. */
let sequence = 0;

/** Latencies (seconds) cycled through: healthy ~40 ms, bad ~400 ms. */
const HEALTHY_LATENCIES = [0.03, 0.035, 0.04, 0.045, 0.04, 0.035, 0.03, 0.045, 0.04, 0.035];
const BAD_LATENCIES = [0.38, 0.4, 0.42, 0.39, 0.41, 0.4, 0.38, 0.42, 0.41, 0.39];

/**
 * One synthetic request, deterministic: a bad version answers requests 0, 3 and 6 of every ten
 * with 500 (30%) and is slow throughout; any other version answers 200 at ~40 ms.
 */
function simulateRequest() {
  const slot = sequence % 10;
  sequence += 1;
  const bad = options.badVersions.has(version);
  const code = bad && (slot === 0 || slot === 3 || slot === 6) ? "500" : "200";
  const seconds = (bad ? BAD_LATENCIES : HEALTHY_LATENCIES)[slot];
  requestsByCode.set(code, (requestsByCode.get(code) ?? 0) + 1);
  BUCKETS.forEach((le, i) => {
    if (seconds <= le) bucketCounts[i] += 1;
  });
  durationCount += 1;
  durationSum += seconds;
}

const traffic = setInterval(() => {
  for (let i = 0; i < options.requestsPerTick; i++) simulateRequest();
}, options.tickMs);

function exposition() {
  const lines = [
    "# HELP http_requests_total Requests served by CM Diagnostics, by status code.",
    "# TYPE http_requests_total counter",
  ];
  for (const [code, count] of requestsByCode) {
    lines.push(`http_requests_total{code="${code}"} ${count}`);
  }
  lines.push(
    "# HELP http_request_duration_seconds Time taken to serve a request.",
    "# TYPE http_request_duration_seconds histogram",
  );
  BUCKETS.forEach((le, i) => {
    lines.push(`http_request_duration_seconds_bucket{le="${le}"} ${bucketCounts[i]}`);
  });
  lines.push(
    `http_request_duration_seconds_bucket{le="+Inf"} ${durationCount}`,
    `http_request_duration_seconds_sum ${Number(durationSum.toFixed(6))}`,
    `http_request_duration_seconds_count ${durationCount}`,
    "# HELP cm_version_info The CM Diagnostics version running.",
    "# TYPE cm_version_info gauge",
    `cm_version_info{version="${version}"} 1`,
  );
  return `${lines.join("\n")}\n`;
}

// --- HTTP ----------------------------------------------------------------------------------

function send(response, status, body, type = "application/json") {
  const text = typeof body === "string" ? body : `${JSON.stringify(body)}\n`;
  response.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  response.end(text);
}

function readBody(request, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error("body too large"));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

async function setVersion(request, response) {
  let body;
  try {
    body = JSON.parse(await readBody(request));
  } catch {
    return send(response, 400, { error: 'the body must be JSON: {"version":"2.4.1"}' });
  }
  const next = body?.version;
  if (typeof next !== "string" || !VERSION_PATTERN.test(next)) {
    return send(response, 400, {
      error: `${JSON.stringify(next)} is not a version such as "2.4.1"`,
    });
  }
  const previous = version;
  version = next;
  process.stderr.write(`cm-service: version ${previous} -> ${version}\n`);
  return send(response, 200, { version, previous });
}

const routes = {
  "/health/ready": { GET: health },
  "/health/live": { GET: health },
  "/metrics": {
    GET: (_req, res) => send(res, 200, exposition(), "text/plain; version=0.0.4; charset=utf-8"),
  },
  "/admin/version": { GET: (_req, res) => send(res, 200, { version }), POST: setVersion },
};

function health(_request, response) {
  if (options.unreadyVersions.has(version)) {
    return send(response, 503, { status: "unavailable", version });
  }
  return send(response, 200, { status: "ok", version });
}

const server = createServer((request, response) => {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const route = routes[path];
  if (!route) return send(response, 404, { error: `${path}: ${STATUS_CODES[404]}` });
  const handler = route[request.method ?? "GET"];
  if (!handler) {
    response.setHeader("allow", Object.keys(route).join(", "));
    return send(response, 405, { error: `${request.method} ${path}: ${STATUS_CODES[405]}` });
  }
  Promise.resolve(handler(request, response)).catch((error) => {
    if (!response.headersSent) send(response, 500, { error: String(error?.message ?? error) });
  });
});

server.on("error", (error) => {
  process.stderr.write(`cm-service: ${error.message}\n`);
  process.exit(1);
});

server.listen(options.port, options.host, () => {
  const { port } = server.address();
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  process.stdout.write(`${JSON.stringify({ url: `http://${host}:${port}` })}\n`);
});

function shutdown(signal) {
  clearInterval(traffic);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  // Never hang on a stuck connection.
  setTimeout(() => process.exit(0), 2000).unref();
  process.stderr.write(`cm-service: ${signal}, shutting down\n`);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
