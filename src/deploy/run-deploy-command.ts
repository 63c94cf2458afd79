/**
 * The apply step (DESIGN §2 step 4): the pin's `deploy.command`, split into arguments and
 * substituted by core/analyze-deploy-command.ts — the analysis `pinline validate` reports with,
 * so a command validate passes is one this runs, and one it refuses is refused here too. No
 * shell runs. Output is streamed to the log line by line.
 *
 * The command runs in a process group of its own, with a timeout (the pin's deploy.timeout,
 * else the policy's, else DEFAULT_DEPLOY_TIMEOUT): when it is over, the whole group gets
 * SIGTERM, and SIGKILL KILL_GRACE_MS later, so nothing the command started outlives it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
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
  /**
   * Set when the command outlived its timeout and its process group was stopped: "terminated"
   * when SIGTERM ended it, "killed" when it took SIGKILL after the grace period.
   */
  stopped?: "terminated" | "killed" | undefined;
}

/** How a command over its timeout was stopped, in words. */
export function describeStop(stopped: "terminated" | "killed"): string {
  return stopped === "killed"
    ? `it ignored SIGTERM, so its process group was killed ${KILL_GRACE_MS / 1000} s later`
    : "SIGTERM to its process group";
}

/** How long deploy.command may run when neither the pin nor the policy says (deploy.timeout). */
export const DEFAULT_DEPLOY_TIMEOUT = "15m";
/** After SIGTERM, how long the command's process group has to end before SIGKILL. */
export const KILL_GRACE_MS = 10_000;
/**
 * After the command itself exited, how long its output may stay open (held by something it
 * started in the background) before pinline stops reading and goes on.
 */
const OUTPUT_DRAIN_MS = 2_000;
/** After SIGKILL, how long to wait for the group to be gone (zombies never go). */
const KILL_WAIT_MS = 2_000;

const TAIL_LINES = 20;

/** Process groups are POSIX; on Windows only the command itself can be stopped. */
const GROUPS = process.platform !== "win32";

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (GROUPS && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // The group is gone already.
  }
}

function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  if (!GROUPS) return child.exitCode === null && child.signalCode === null;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function waitForGroup(child: ChildProcess, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupAlive(child)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}

/** SIGTERM to the group; SIGKILL after `graceMs` if any of it is still there. */
async function stopGroup(child: ChildProcess, graceMs: number): Promise<"terminated" | "killed"> {
  signalGroup(child, "SIGTERM");
  if (await waitForGroup(child, graceMs)) return "terminated";
  signalGroup(child, "SIGKILL");
  await waitForGroup(child, KILL_WAIT_MS);
  return "killed";
}

/**
 * Runs the arguments in a process group of their own; every output line goes to `log`. Rejects
 * only when it cannot start. With `timeoutMs`, a command still running then is stopped with
 * its whole group (SIGTERM, SIGKILL `killGraceMs` later) and the result says `stopped`. If
 * pinline itself gets SIGINT or SIGTERM meanwhile, the group gets it too.
 */
export function runDeployCommand(input: {
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  timeoutMs?: number | undefined;
  /** Default KILL_GRACE_MS. */
  killGraceMs?: number | undefined;
}): Promise<CommandResult> {
  const started = Date.now();
  const [file, ...rest] = input.args;
  if (!file) return Promise.reject(new InvalidValueError("deploy.command is empty"));
  return new Promise((resolve, reject) => {
    const child = spawn(file, rest, {
      cwd: input.cwd,
      env: input.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: GROUPS,
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

    // pinline stopped (Ctrl-C, a cancelled job): the command, in its own group, must stop too.
    const forward = (signal: NodeJS.Signals) => {
      signalGroup(child, signal);
      unlisten();
      process.kill(process.pid, signal);
    };
    const unlisten = () => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
    };
    process.once("SIGINT", forward);
    process.once("SIGTERM", forward);

    let stopping: Promise<"terminated" | "killed"> | undefined;
    const timer =
      input.timeoutMs !== undefined
        ? setTimeout(() => {
            stopping = stopGroup(child, input.killGraceMs ?? KILL_GRACE_MS);
          }, input.timeoutMs)
        : undefined;
    let drain: NodeJS.Timeout | undefined;
    child.on("exit", () => {
      drain = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, OUTPUT_DRAIN_MS);
    });
    child.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      unlisten();
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
      clearTimeout(timer);
      clearTimeout(drain);
      unlisten();
      const exitCode = code ?? (signal ? 128 : 1);
      const finish = (stopped?: "terminated" | "killed") =>
        resolve({ exitCode, durationMs: Date.now() - started, tail, stopped });
      if (stopping) stopping.then(finish, () => finish("killed"));
      else finish();
    });
  });
}
