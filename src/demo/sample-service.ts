/** The sample service (examples/cm-service) as a child process, for the demo and the tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
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
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once("exit", (code) => reject(new Error(`the sample service exited with ${code}`)));
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
