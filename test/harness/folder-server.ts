/**
 * Feed folders over http or https, as GitHub Pages or any static host serves them:
 * GET /<name>/<path> is the file <path> of the folder registered as <name>; anything outside a
 * folder, or missing, is 404.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";

export interface FolderServer {
  server: Server;
  /** Registers `dir` as /<name> and returns its URL. */
  url(name: string, dir: string): Promise<string>;
  close(): Promise<void>;
}

export function serveFolders(
  listen: (handler: (q: IncomingMessage, s: ServerResponse) => void) => Server = (handler) =>
    createServer(handler),
  scheme: "http" | "https" = "http",
): FolderServer {
  const feeds = new Map<string, string>();
  const server = listen((request, response) => {
    const [, name, ...rest] = new URL(request.url ?? "/", "http://x").pathname.split("/");
    const dir = feeds.get(name ?? "");
    const path = dir ? normalize(join(dir, ...rest)) : undefined;
    try {
      if (!dir || !path?.startsWith(dir + sep)) throw new Error("outside");
      const bytes = readFileSync(path); // before the status: a missing file is a 404
      response.writeHead(200).end(bytes);
    } catch {
      response.writeHead(404).end();
    }
  });
  const ready = new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server,
    async url(name, dir) {
      await ready;
      feeds.set(name, dir);
      return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
