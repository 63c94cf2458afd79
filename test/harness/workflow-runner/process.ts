/**
 * A step's process as the runner starts it: its file commands (GITHUB_OUTPUT, GITHUB_ENV,
 * GITHUB_PATH, GITHUB_STATE, GITHUB_STEP_SUMMARY), workflow commands on stdout, and the
 * child itself, spawned asynchronously so the in-process simulator keeps answering.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FileCommands {
  output: string;
  env: string;
  path: string;
  state: string;
  summary: string;
}

let counter = 0;

export function fileCommands(dir: string): FileCommands {
  counter += 1;
  const files: FileCommands = {
    output: join(dir, `set_output_${counter}`),
    env: join(dir, `set_env_${counter}`),
    path: join(dir, `add_path_${counter}`),
    state: join(dir, `save_state_${counter}`),
    summary: join(dir, `step_summary_${counter}`),
  };
  for (const file of Object.values(files)) writeFileSync(file, "");
  return files;
}

/** `name=value` lines and `name<<delimiter` blocks (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE). */
export function parseKeyValueFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i] as string);
      out[heredoc[1] as string] = value.join("\n");
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}

function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/g, ":").replace(/%2C/g, ",");
}

/** `::name key=value,…::message` lines, escapes undone. */
export function workflowCommands(stdout: string): WorkflowCommand[] {
  const out: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[2] ?? "").split(",").filter(Boolean)) {
      const eq = pair.indexOf("=");
      if (eq > 0) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
    out.push({
      command: (match[1] as string).toLowerCase(),
      properties,
      message: unescapeData(match[3] ?? ""),
    });
  }
  return out;
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not start. */
  startError?: string;
}

export function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) =>
      resolve({ code: null, stdout, stderr, startError: error.message }),
    );
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface StepFiles {
  outputs: Record<string, string>;
  env: Record<string, string>;
  path: string[];
  state: Record<string, string>;
  summary: string;
}

export function readFileCommands(files: FileCommands, stdout: string): StepFiles {
  const outputs = parseKeyValueFile(readFileSync(files.output, "utf8"));
  const state = parseKeyValueFile(readFileSync(files.state, "utf8"));
  // The deprecated stdout forms still work on GitHub (with a warning).
  for (const command of workflowCommands(stdout)) {
    if (command.command === "set-output" && command.properties.name) {
      outputs[command.properties.name] = command.message;
    } else if (command.command === "save-state" && command.properties.name) {
      state[command.properties.name] = command.message;
    }
  }
  return {
    outputs,
    env: parseKeyValueFile(readFileSync(files.env, "utf8")),
    path: readFileSync(files.path, "utf8").split(/\r?\n/).filter(Boolean),
    state,
    summary: readFileSync(files.summary, "utf8"),
  };
}
