import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { repoRoot } from "./example-repo.js";

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The workflow commands the action printed (`::error file=...::message`). */
  commands: { command: string; properties: Record<string, string>; message: string }[];
  /** What the action wrote to GITHUB_OUTPUT, parsed. */
  outputs: Record<string, string>;
  /** What the action wrote to GITHUB_STEP_SUMMARY. */
  summary: string;
}

export interface ActionOptions {
  workspace: string;
  inputs?: Record<string, string>;
  event?: unknown;
  eventName?: string;
  /** Further environment, as a workflow's `env:` would set it (secrets mapped to variables). */
  env?: Record<string, string>;
}

interface PreparedRun {
  dir: string;
  files: { output: string; summary: string; event: string };
  script: string;
  env: NodeJS.ProcessEnv;
}

/** The runner's side of a step: its files, the inputs (action.yml defaults applied), the env. */
function prepareRun(name: string, options: ActionOptions): PreparedRun {
  const dir = mkdtempSync(join(tmpdir(), "pinline-runner-"));
  const files = {
    output: join(dir, "output"),
    summary: join(dir, "summary"),
    event: join(dir, "event.json"),
  };
  writeFileSync(files.output, "");
  writeFileSync(files.summary, "");
  writeFileSync(files.event, JSON.stringify(options.event ?? {}));
  // The runner sets every input: the caller's, else the default in action.yml.
  const action = parse(readFileSync(join(repoRoot, "actions", name, "action.yml"), "utf8"));
  const declared = (action.inputs ?? {}) as Record<string, { default?: string }>;
  const values: Record<string, string> = {};
  for (const [key, spec] of Object.entries(declared)) {
    if (spec.default !== undefined) values[key] = String(spec.default);
  }
  Object.assign(values, options.inputs ?? {});
  const inputs = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [`INPUT_${k.replace(/ /g, "_").toUpperCase()}`, v]),
  );
  return {
    dir,
    files,
    script: join(repoRoot, "dist", `${name}.js`),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_ACTIONS: "true",
      CI: "true",
      RUNNER_TEMP: dir,
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_REPOSITORY: "acme/cm-diagnostics-releases",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_RUN_ID: "4242",
      GITHUB_SHA: "0123456789abcdef0123456789abcdef01234567",
      GITHUB_EVENT_NAME: options.eventName ?? "pull_request",
      GITHUB_EVENT_PATH: files.event,
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      ...inputs,
      ...options.env,
    },
  };
}

function finishRun(
  prepared: PreparedRun,
  result: { code: number | null; stdout: string; stderr: string },
): ActionRun {
  try {
    return {
      ...result,
      commands: parseCommands(result.stdout),
      outputs: parseOutputFile(readFileSync(prepared.files.output, "utf8")),
      summary: readFileSync(prepared.files.summary, "utf8"),
    };
  } finally {
    rmSync(prepared.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `dist/<name>.js` the way the GitHub runner does: inputs as INPUT_* variables, the event
 * payload in GITHUB_EVENT_PATH, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files it appends to.
 */
export function runAction(name: string, options: ActionOptions): ActionRun {
  const prepared = prepareRun(name, options);
  const result = spawnSync(process.execPath, [prepared.script], {
    cwd: options.workspace,
    encoding: "utf8",
    env: prepared.env,
  });
  return finishRun(prepared, { code: result.status, stdout: result.stdout, stderr: result.stderr });
}

/**
 * runAction without blocking this process: for actions that talk to a server the test runs
 * in-process (the GitHub simulator), which must keep answering while the action waits.
 */
export function runActionAsync(name: string, options: ActionOptions): Promise<ActionRun> {
  const prepared = prepareRun(name, options);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [prepared.script], {
      cwd: options.workspace,
      env: prepared.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve(finishRun(prepared, { code, stdout, stderr })));
  });
}

/** `::error file=a,line=1::message` lines, with the runner's escapes undone. */
function parseCommands(stdout: string): ActionRun["commands"] {
  const unescapeValue = (s: string) =>
    s
      .replace(/%0D/g, "\r")
      .replace(/%0A/g, "\n")
      .replace(/%3A/g, ":")
      .replace(/%2C/g, ",")
      .replace(/%25/g, "%");
  const commands: ActionRun["commands"] = [];
  for (const line of stdout.split("\n")) {
    const match = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[2] ?? "").split(",").filter(Boolean)) {
      const eq = pair.indexOf("=");
      properties[pair.slice(0, eq)] = unescapeValue(pair.slice(eq + 1));
    }
    commands.push({
      command: match[1] as string,
      properties,
      message: unescapeValue(match[3] ?? ""),
    });
  }
  return commands;
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks. */
function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] as string);
    if (!match) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i] as string);
    outputs[match[1] as string] = value.join("\n");
  }
  return outputs;
}
