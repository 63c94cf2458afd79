/** The sample service (examples/cm-service) as a child process, for the demo and the tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PinlineError } from "../core/errors.js";
import { packageRoot } from "./package-root.js";

export interface SampleService {
  url: string;
  /** The version it serves now. */
  version(): Promise<string>;
  stop(): void;
}

export async function startSampleService(version: string): Promise<SampleService> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(packageRoot(), "examples/cm-service/server.mjs"),
      "--port",
      "0",
      "--version",
      version,
      "--tick-ms",
      "50",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    if (stderr.length < 8_192) stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const failed = (why: string) =>
      reject(
        new PinlineError(`the sample service (examples/cm-service) did not start: ${why}`, {
          hint: "check that the pinline package is complete (npm ci) and that loopback ports can be opened",
        }),
      );
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        failed(`it printed ${JSON.stringify(line.slice(0, 200))} instead of its address`);
      }
    });
    child.once("error", (error) => failed(error.message));
    child.once("exit", (code, signal) =>
      failed(
        `it exited (${signal ?? `code ${code}`})${stderr.trim() ? `: ${stderr.trim().split("\n").slice(-2).join(" / ")}` : ""}`,
      ),
    );
  });
  return {
    url,
    async version() {
      const response = await fetch(`${url}/admin/version`);
      return ((await response.json()) as { version: string }).version;
    },
    stop: () => child.kill("SIGTERM"),
  };
}
