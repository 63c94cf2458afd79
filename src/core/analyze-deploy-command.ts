// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${version} and its kin are the deploy command's own placeholders
/**
 * What a pin's `deploy.command` becomes (DESIGN §2 step 4), decided once for `pinline validate`
 * and for the deploy, so the two can never disagree. The text is split into arguments the way
 * a shell splits it (shell-quote); `${version}`, `${traffic}`, `${environment}` and
 * `${components.<name>.artifact|version}` are substituted INSIDE those arguments — a value never
 * becomes a second argument, an operator or a command — and no shell runs. Whatever only a shell
 * gives meaning to is a problem: operators and redirections, `$VAR`, `$(...)` and backticks,
 * globs, comments, a second line, a placeholder single quotes keep from being substituted.
 */
import { type ParseEntry, parse } from "shell-quote";
import type { EnvironmentPin, ReleaseManifest } from "./schema-types.js";

/** The placeholders' values, by name ("version", "components.backend.artifact"). */
export type DeployVariables = Record<string, string>;

export type DeployCommandProblemKind =
  | "placeholder"
  | "quoted-placeholder"
  | "operator"
  | "reference"
  | "substitution"
  | "glob"
  | "comment"
  | "line-break"
  | "syntax"
  | "empty";

export interface DeployCommandProblem {
  kind: DeployCommandProblemKind;
  /** What is wrong, in one sentence that starts with "deploy.command". */
  message: string;
  /** What to do about it. */
  hint: string;
  /** For "placeholder": the name pinline does not set ("tag", "components.worker.artifact"). */
  placeholder?: string | undefined;
}

export interface DeployCommandAnalysis {
  /** The program and its arguments, substituted; undefined when there is a problem. */
  args: string[] | undefined;
  problems: DeployCommandProblem[];
}

/** What pinline sets for a deploy of `version` of `manifest` to the pin's environment. */
export function deployVariables(
  pin: Pick<EnvironmentPin, "name" | "traffic">,
  manifest: Pick<ReleaseManifest, "components"> | undefined,
  version: string,
): DeployVariables {
  const variables: DeployVariables = {
    version,
    traffic: String(pin.traffic ?? 100),
    environment: pin.name,
  };
  for (const [name, component] of Object.entries(manifest?.components ?? {})) {
    if (!component) continue;
    variables[`components.${name}.artifact`] = component.artifact;
    variables[`components.${name}.version`] = component.version;
  }
  return variables;
}

const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** After `$`: a shell parameter (`$HOME`, `$1`, `$$`, `$?`...). */
const PARAMETER = /^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]|[*@#?$!-])/;
/** Where an unquoted word ends for the shell. */
const WORD_END = /[\s|&;()<>]/;

const SCRIPT_HINT = "put the steps in a script and call the script with ${version} as an argument";

function placeholders(variables: DeployVariables): string {
  return Object.keys(variables)
    .map((name) => `\${${name}}`)
    .join(", ");
}

function excerpt(text: string, max = 24): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** What the shell-level scan found. */
interface Scan {
  problems: DeployCommandProblem[];
  /** Names written as `${name}` where they are substituted. */
  placeholders: string[];
  /** Parameters written as `$NAME`, in the order written. */
  references: string[];
  /** Unquoted `[...]` expressions and their words, which shell-quote passes on as text. */
  brackets: { bracket: string; word: string }[];
}

/**
 * Reads the command as a POSIX shell would quote it — single and double quotes, `$'...'`,
 * backslashes — for what shell-quote either expands silently or passes on as text: `$VAR`
 * (expanded like `${VAR}`), `$(...)`, backticks and `[...]` patterns (both kept as text), and
 * `${...}` inside single quotes (never substituted).
 */
function scan(command: string): Scan {
  const found: Scan = { problems: [], placeholders: [], references: [], brackets: [] };
  const seen = new Set<string>();
  const add = (key: string, problem: DeployCommandProblem) => {
    if (seen.has(key)) return;
    seen.add(key);
    found.problems.push(problem);
  };
  let quote: "none" | "single" | "double" | "ansi" = "none";
  for (let i = 0; i < command.length; i++) {
    const c = command.charAt(i);
    if (quote === "single") {
      if (c === "'") quote = "none";
      else if (c === "$" && command.charAt(i + 1) === "{") {
        const end = command.indexOf("}", i);
        const written = end < 0 ? command.slice(i) : command.slice(i, end + 1);
        add(`quoted ${written}`, {
          kind: "quoted-placeholder",
          message: `deploy.command has ${written} inside single quotes, which pass it on as written instead of substituting it`,
          hint: `use double quotes: "…${written}…"`,
        });
      }
      continue;
    }
    if (quote === "ansi") {
      if (c === "\\") i++;
      else if (c === "'") quote = "none";
      continue;
    }
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "`") {
      add("backtick", {
        kind: "substitution",
        message: "deploy.command has a backtick command substitution, which needs a shell",
        hint: SCRIPT_HINT,
      });
      continue;
    }
    if (c === "$") {
      if (quote === "none" && command.charAt(i + 1) === "'") {
        quote = "ansi"; // $'...': bash's quoting with backslash escapes
        i++;
      } else {
        i = scanDollar(command, i, found, add);
      }
      continue;
    }
    if (quote === "double") {
      if (c === '"') quote = "none";
      continue;
    }
    if (c === "'") quote = "single";
    else if (c === '"') quote = "double";
    else if (c === "[") {
      let end = i + 1;
      while (end < command.length && !WORD_END.test(command.charAt(end))) {
        if (command.charAt(end) === "]") break;
        end++;
      }
      if (command.charAt(end) === "]" && end > i + 1) {
        let start = i;
        while (start > 0 && !WORD_END.test(command.charAt(start - 1))) start--;
        let stop = end;
        while (stop < command.length && !WORD_END.test(command.charAt(stop))) stop++;
        found.brackets.push({
          bracket: command.slice(i, end + 1),
          word: command.slice(start, stop),
        });
      }
    }
  }
  return found;
}

/** Reads what follows a `$` at `i` (outside single quotes); returns the index it stopped at. */
function scanDollar(
  command: string,
  i: number,
  found: Scan,
  add: (key: string, problem: DeployCommandProblem) => void,
): number {
  const next = command.charAt(i + 1);
  if (next === "{") {
    let depth = 1;
    let end = i + 2;
    for (; end < command.length && depth > 0; end++) {
      const c = command.charAt(end);
      if (c === "{" && command.charAt(end - 1) === "$") depth++;
      else if (c === "}") depth--;
    }
    if (depth > 0) {
      add("unclosed", {
        kind: "syntax",
        message: `deploy.command has a \${ that is never closed: ${excerpt(command.slice(i))}`,
        hint: "close the placeholder with }",
      });
      return command.length;
    }
    const name = command.slice(i + 2, end - 1);
    if (name === "") {
      add("empty placeholder", {
        kind: "syntax",
        message: "deploy.command has an empty placeholder ${}",
        hint: "name what to substitute, such as ${version}",
      });
    } else {
      found.placeholders.push(name);
    }
    return end - 1;
  }
  if (next === "(") {
    let depth = 0;
    let end = i + 1;
    for (; end < command.length; end++) {
      const c = command.charAt(end);
      if (c === "(") depth++;
      else if (c === ")" && --depth === 0) break;
    }
    add("substitution", {
      kind: "substitution",
      message: `deploy.command has the command substitution ${excerpt(command.slice(i, end + 1))}, which needs a shell`,
      hint: SCRIPT_HINT,
    });
    return i + 1;
  }
  const parameter = PARAMETER.exec(command.slice(i + 1))?.[0];
  if (parameter === undefined) return i;
  found.references.push(parameter);
  return i + parameter.length;
}

function operatorProblem(op: string): DeployCommandProblem {
  const redirection = /[<>]/.test(op);
  return {
    kind: "operator",
    message: `deploy.command has the shell ${redirection ? "redirection" : "operator"} "${op}", which needs a shell; pinline runs the command without one`,
    hint: SCRIPT_HINT,
  };
}

/**
 * Splits and substitutes `command`, or says every reason it cannot run without a shell, each
 * once. `args` is set only when there is no problem.
 */
export function analyzeDeployCommand(
  command: string,
  variables: DeployVariables,
): DeployCommandAnalysis {
  const problems: DeployCommandProblem[] = [];
  const lines = command.trimEnd().split(/\r\n|\r|\n/).length;
  if (lines > 1) {
    problems.push({
      kind: "line-break",
      message: `deploy.command spans ${lines} lines; a shell would run each line as a command, pinline runs one`,
      hint: "write it on one line — a folded block scalar (>-) joins lines — or call a script",
    });
  }
  const scanned = scan(command);
  problems.push(...scanned.problems);
  for (const name of new Set(scanned.references)) {
    problems.push({
      kind: "reference",
      message: `deploy.command reads $${name} from the environment, which needs a shell; pinline substitutes only \${...} placeholders`,
      hint: Object.hasOwn(variables, name)
        ? `write \${${name}}`
        : `read it in a script the command calls; pinline sets ${placeholders(variables)}`,
    });
  }
  const substitution = scanned.problems.some((p) => p.kind === "substitution");
  for (const name of new Set(scanned.placeholders)) {
    if (PLACEHOLDER_NAME.test(name) && Object.hasOwn(variables, name)) continue;
    problems.push({
      kind: "placeholder",
      message: `deploy.command uses \${${name}}, which pinline does not set`,
      hint: `available: ${placeholders(variables)}`,
      placeholder: name,
    });
  }
  const asked = new Set<string>();
  let tokens: ParseEntry[] = [];
  try {
    tokens = parse(command, (name: string) => {
      if (name === "") return undefined; // a lone "$" stays a "$"
      asked.add(name);
      return Object.hasOwn(variables, name) ? variables[name] : "";
    });
  } catch (error) {
    if (!problems.some((p) => p.kind === "syntax")) {
      problems.push({
        kind: "syntax",
        message: `deploy.command cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        hint: "check its quotes and placeholders",
      });
    }
  }
  // Fail closed: anything shell-quote looked up that the scan did not account for.
  for (const name of asked) {
    const known = scanned.placeholders.includes(name) || scanned.references.includes(name);
    if (!known && !Object.hasOwn(variables, name)) {
      problems.push({
        kind: "placeholder",
        message: `deploy.command refers to \${${name}}, which pinline does not set`,
        hint: `available: ${placeholders(variables)}`,
        placeholder: name,
      });
    }
  }
  const args: string[] = [];
  const operators = new Set<string>();
  const globs: string[] = [];
  let comment = false;
  for (const token of tokens) {
    if (typeof token === "string") args.push(token);
    else if ("comment" in token) comment = true;
    else if (token.op === "glob") globs.push(token.pattern);
    else if (!(substitution && (token.op === "(" || token.op === ")"))) operators.add(token.op);
  }
  // A word with both `*` and `[...]` is one pattern, reported once.
  for (const { bracket, word } of scanned.brackets) {
    if (!globs.some((pattern) => pattern.includes(bracket))) globs.push(word);
  }
  for (const pattern of new Set(globs)) {
    problems.push({
      kind: "glob",
      message: `deploy.command has the glob pattern ${pattern}, which needs a shell to expand`,
      hint: `quote it ('${pattern}') to pass it on as written`,
    });
  }
  for (const op of operators) problems.push(operatorProblem(op));
  if (comment) {
    problems.push({
      kind: "comment",
      message: "deploy.command has an unquoted #, and everything after it is read as a comment",
      hint: "quote it ('#') to pass it on as written, or remove the comment",
    });
  }
  if (problems.length === 0 && args.length === 0) {
    problems.push({
      kind: "empty",
      message: "deploy.command is empty",
      hint: "name the program to run, such as kubectl",
    });
  }
  return problems.length === 0 ? { args, problems } : { args: undefined, problems };
}
