import { Command, InvalidArgumentError, Option } from "commander";
import { UsageError } from "../../core/errors.js";
import { redactUrl } from "../../repo/database-url.js";
import type { Io } from "../io.js";

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError("expected a port number, 0 to 65535 (0: any free port)");
  }
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError("expected a whole number, 1 or more");
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError("expected a whole number of seconds (0: never)");
  }
  return n;
}

interface ServeOptions {
  feed?: string;
  trustedRoot?: string;
  port: number;
  host: string;
  databaseUrl?: string;
  licenseKeys?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
  reloadInterval: number;
  trustProxy: string[];
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxEventStreams?: number;
  maxEventStreamsPerClient?: number;
  log?: boolean;
}

/** The TLS options as given: both files or neither, and a client CA only with them. */
function tlsOf(options: ServeOptions) {
  if (!options.tlsCert !== !options.tlsKey) {
    throw new UsageError("--tls-cert and --tls-key go together", {
      hint: "pass both PEM files (the server's certificate and its private key), or neither",
    });
  }
  if (options.clientCa && !options.tlsCert) {
    throw new UsageError("--client-ca needs --tls-cert and --tls-key", {
      hint: "mutual TLS is TLS first: pass the server's certificate and key too",
    });
  }
  if (!options.tlsCert || !options.tlsKey) return undefined;
  return { cert: options.tlsCert, key: options.tlsKey, clientCa: options.clientCa };
}

/** Resolves at the first SIGINT or SIGTERM; SIGHUP reloads the feed meanwhile. */
function untilStopped(onHangUp: () => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      process.off("SIGHUP", onHangUp);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    process.on("SIGHUP", onHangUp);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

export function serveCommand(io: Io): Command {
  const serve = new Command("serve")
    .description(
      "the update server: update checks from the verified feed, status reports and statistics in PostgreSQL, notifications as Server-Sent Events",
    )
    .option("--feed <dir|url>", "the feed `pinline feed build` wrote (a folder), or its URL")
    .option("--trusted-root <file>", "the trusted root of an URL feed (its metadata/1.root.json)")
    .addOption(
      new Option("--port <n>", "the port to listen on (0: any free one)")
        .argParser(portNumber)
        .default(8080),
    )
    .option("--host <host>", "the address to listen on (0.0.0.0: every interface)", "127.0.0.1")
    .option("--database-url <url>", "where status reports are stored (else DATABASE_URL)")
    .option("--license-keys <file>", "accept only these keys: their sha256 hashes, one a line")
    .option("--tls-cert <file>", "serve HTTPS (TLS 1.3) with this PEM certificate")
    .option("--tls-key <file>", "the certificate's PEM private key")
    .option("--client-ca <file>", "mutual TLS: require client certificates this CA signed")
    .addOption(
      new Option("--reload-interval <seconds>", "reload the feed this often (0: only on SIGHUP)")
        .argParser(seconds)
        .default(60),
    )
    .option(
      "--trust-proxy <address>",
      "a proxy in front of the server (address or CIDR, repeatable): its requests are known by the X-Forwarded-For client",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addOption(
      new Option("--max-connections <n>", "connections open at once (default 10000)").argParser(
        count,
      ),
    )
    .addOption(
      new Option(
        "--max-connections-per-client <n>",
        "connections one peer address may hold (default 256; trusted proxies are not bound)",
      ).argParser(count),
    )
    .addOption(
      new Option("--max-event-streams <n>", "event streams open at once (default 1000)").argParser(
        count,
      ),
    )
    .addOption(
      new Option(
        "--max-event-streams-per-client <n>",
        "event streams one client address may hold (default 10)",
      ).argParser(count),
    )
    .option("--log", "log every request as JSON lines on stdout (license keys redacted)")
    .action(async (options: ServeOptions) => {
      if (!options.feed) {
        throw new UsageError("pinline serve needs --feed", {
          hint: "pass the folder `pinline feed build --out` wrote, or the feed's URL with --trusted-root",
        });
      }
      const databaseUrl = options.databaseUrl || process.env.DATABASE_URL;
      if (!databaseUrl) {
        throw new UsageError("pinline serve needs a PostgreSQL database for status reports", {
          hint: "pass --database-url postgres://… or set DATABASE_URL (the server creates its schema pinline_updates there)",
        });
      }
      const tls = tlsOf(options);
      io.err(`pinline serve: database ${redactUrl(databaseUrl)}\n`);
      const { createUpdateServer } = await import("../../serve/create-server.js");
      const server = await createUpdateServer({
        feed: options.feed,
        trustedRoot: options.trustedRoot,
        databaseUrl,
        port: options.port,
        host: options.host,
        licenseKeys: options.licenseKeys,
        tls,
        reloadIntervalSeconds: options.reloadInterval,
        trustProxy: options.trustProxy,
        limits: {
          ...(options.maxConnections ? { connections: options.maxConnections } : {}),
          ...(options.maxConnectionsPerClient
            ? { connectionsPerClient: options.maxConnectionsPerClient }
            : {}),
          ...(options.maxEventStreams ? { eventStreams: options.maxEventStreams } : {}),
          ...(options.maxEventStreamsPerClient
            ? { eventStreamsPerClient: options.maxEventStreamsPerClient }
            : {}),
        },
        logger: options.log === true,
        onProgress: (message) => io.err(`  ${message}\n`),
        onInternalError: (error) =>
          io.err(
            `pinline serve: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
          ),
      });
      const url = await server.listen();
      const snapshot = server.feed.snapshot;
      io.out(
        `pinline serve: listening on ${url} (feed version ${snapshot.version}: ${[...snapshot.channels.keys()].join(", ")})\n`,
      );
      const signal = await untilStopped(() => {
        void server.reload().then((changed) => {
          const now = server.feed.snapshot.version;
          io.err(
            `pinline serve: feed reloaded: ${server.feed.lastError ?? (changed ? `version ${now}` : `still version ${now}`)}\n`,
          );
        });
      });
      io.err(`pinline serve: ${signal}: closing event streams and connections\n`);
      await server.close();
      io.out("pinline serve: stopped\n");
    });
  serve
    .command("hash-key")
    .description(
      "print the sha256 of the license key on stdin, a line for --license-keys (the same as printf %s KEY | sha256sum)",
    )
    .action(async () => {
      // One final newline is not part of the key (echo KEY | pinline serve hash-key).
      const key = (await readStdin()).replace(/\r?\n$/, "");
      if (key === "") {
        throw new UsageError("no license key on stdin", {
          hint: "printf %s KEY | pinline serve hash-key",
        });
      }
      const { hashLicenseKey } = await import("../../serve/license-keys.js");
      io.out(`${hashLicenseKey(key)}\n`);
    });
  return serve;
}
