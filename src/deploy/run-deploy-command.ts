/**
 * The apply step (DESIGN §2 step 4): the pin's `deploy.command`, split into arguments the way a
 * shell would split the text written in YAML, then `${version}`, `${traffic}` and
 * `${components.<name>.artifact|version}` substituted INSIDE those arguments — a value never
 * becomes a second argument, an operator or a command. No shell runs: pipes, `&&`, redirections
 * and globs are refused (wrap them in a script). Output is streamed to the log line by line.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { parse } from "shell-quote";
import { InvalidValueError, PinlineError } from "../core/errors.js";

export type DeployVariables = Record<string, string>;

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The command's arguments with the variables substituted; throws for what needs a shell. */
export function buildDeployArguments(command: string, variables: DeployVariables): string[] {
  const unknown = new Set<string>();
  const tokens = parse(command, (name: string) => {
    if (!VARIABLE.test(name) || !Object.hasOwn(variables, name)) {
      unknown.add(name);
      return "";
    }
    return variables[name] as string;
  });
  if (unknown.size > 0) {
    throw new InvalidValueError(
      `deploy.command uses ${[...unknown].map((n) => `\${${n}}`).join(", ")}, which pinline does not set`,
      {
        hint: `available: ${Object.keys(variables)
          .map((n) => `\${${n}}`)
          .join(", ")}`,
      },
    );
  }
  const args: string[] = [];
  for (const token of tokens) {
    if (typeof token === "string") {
      args.push(token);
      continue;
    }
    const what = "op" in token ? `"${token.op}"` : "comment" in token ? "a comment" : "a pattern";
    throw new InvalidValueError(
      `deploy.command contains ${what}, which needs a shell; pinline runs the command without one`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the variable as written in YAML
      { hint: "put the pipeline in a script and call the script with ${version} as an argument" },
    );
  }
  if (args.length === 0) throw new InvalidValueError("deploy.command is empty");
  return args;
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
