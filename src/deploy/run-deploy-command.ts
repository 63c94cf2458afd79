/**
 * The apply step (DESIGN §2 step 4): the pin's `deploy.command`, split into arguments and
 * substituted by core/analyze-deploy-command.ts — the analysis `pinline validate` reports with,
 * so a command validate passes is one this runs, and one it refuses is refused here too. No
 * shell runs. Output is streamed to the log line by line.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import {
  analyzeDeployCommand,
  type DeployVariables,
  deployVariables,
} from "../core/analyze-deploy-command.js";
import { InvalidValueError, PinlineError, UsageError } from "../core/errors.js";
import type { ReleaseManifest } from "../core/schema-types.js";
import { type Catalog, requirePin } from "../repo/catalog.js";
import { checkDeployCommand } from "../repo/check-environments.js";
import { formatFinding } from "../repo/findings.js";

export type { DeployVariables } from "../core/analyze-deploy-command.js";
export { deployVariables };

/** The command's arguments with the variables substituted; throws for what needs a shell. */
export function buildDeployArguments(command: string, variables: DeployVariables): string[] {
  const { args, problems } = analyzeDeployCommand(command, variables);
  const [first, ...more] = problems;
  if (first) {
    const also = more.length > 0 ? `; also: ${more.map((p) => p.message).join("; ")}` : "";
    throw new InvalidValueError(`${first.message}${also}`, { hint: first.hint });
  }
  return args ?? [];
}

/**
 * Refuses, before anything runs, a deploy.command that cannot run for the version being
 * deployed or for the one a failed deploy would apply again: the findings `pinline validate`
 * reports, at the command's file:line:col (UsageError: the configuration cannot be used).
 */
export function requireRunnableCommand(
  catalog: Catalog,
  environment: string,
  manifests: readonly (ReleaseManifest | undefined)[],
): void {
  const document = catalog.environments.get(environment);
  const { file } = requirePin(catalog, environment);
  const [deployed] = manifests;
  const checked = new Set<string>();
  for (const manifest of manifests) {
    if (!manifest || !document || checked.has(manifest.version)) continue;
    checked.add(manifest.version);
    const [first, ...more] = checkDeployCommand(document, manifest).filter(
      (finding) => finding.severity === "error",
    );
    if (!first) continue;
    const purpose = manifest === deployed ? "" : ` for the rollback to ${manifest.version}`;
    const also = more.length > 0 ? `; also ${more.map(formatFinding).join("; ")}` : "";
    throw new UsageError(
      `deploy ${environment} refuses to start: ${file}'s deploy.command cannot run${purpose}, so nothing was verified, backed up or migrated: ${first.message}${also}`,
      {
        where: { file: first.file, line: first.line, column: first.column },
        hint: `${first.hint ?? "fix deploy.command"}; pinline validate lists every problem`,
      },
    );
  }
}

export interface CommandResult {
  exitCode: number;
  durationMs: number;
  /** The last lines of output, for the failure message. */
  tail: string[];
}

const TAIL_LINES = 20;

/** Runs the arguments; every output line goes to `log`. Rejects only when it cannot start. */
export function runDeployCommand(input: {
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  timeoutMs?: number | undefined;
}): Promise<CommandResult> {
  const started = Date.now();
  const [file, ...rest] = input.args;
  if (!file) return Promise.reject(new InvalidValueError("deploy.command is empty"));
  return new Promise((resolve, reject) => {
    const child = spawn(file, rest, {
      cwd: input.cwd,
      env: input.env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(input.timeoutMs ? { timeout: input.timeoutMs, killSignal: "SIGTERM" as const } : {}),
    });
    const tail: string[] = [];
    const collect = (stream: NodeJS.ReadableStream) =>
      createInterface({ input: stream }).on("line", (line) => {
        input.log(line);
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      });
    collect(child.stdout);
    collect(child.stderr);
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        new PinlineError(`deploy.command could not start ${file}: ${error.message}`, {
          hint:
            error.code === "ENOENT"
              ? `${file} is not installed or not on PATH`
              : "check deploy.command",
          cause: error,
        }),
      );
    });
    child.on("close", (code, signal) => {
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        durationMs: Date.now() - started,
        tail,
      });
    });
  });
}
