/**
 * The update server's TLS (specification section 9.2): TLS 1.3 only, and with a client CA,
 * mutual TLS — a client without a certificate that CA signed is refused in the handshake,
 * before any request is read.
 */
import { readFileSync } from "node:fs";
import type { ServerOptions } from "node:https";
import { UsageError } from "../core/errors.js";

export interface ServerTls {
  /** PEM files. */
  cert: string;
  key: string;
  /** The CA whose client certificates are accepted; with it, every client must present one. */
  clientCa?: string | undefined;
}

/** A PEM file; UsageError naming it when it cannot be read. */
export function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`cannot read the ${what} ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export function httpsServerOptions(tls: ServerTls): ServerOptions {
  return {
    cert: readPem(tls.cert, "TLS certificate"),
    key: readPem(tls.key, "TLS key"),
    minVersion: "TLSv1.3",
    ...(tls.clientCa
      ? {
          ca: readPem(tls.clientCa, "client CA certificate"),
          requestCert: true,
          rejectUnauthorized: true,
        }
      : {}),
  };
}
