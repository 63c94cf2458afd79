/**
 * `${{ }}` evaluation with GitHub's own expression library (@actions/expressions: its lexer,
 * parser, evaluator, functions and coercions), over template tokens from the workflow parser.
 * Nothing here parses an expression: a string with embedded expressions already arrives as
 * the parser's `format('…{0}…', expr)` token, as on GitHub.
 */
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import type { FunctionDefinition } from "@actions/expressions/funcs/info";
import { truthy } from "@actions/expressions/result";
import { type TemplateToken, tokens } from "./parser.js";

/** The named contexts an expression may read (which ones a key allows, the parser checks). */
const CONTEXT_NAMES = [
  "github",
  "env",
  "vars",
  "secrets",
  "inputs",
  "job",
  "jobs",
  "steps",
  "runner",
  "strategy",
  "matrix",
  "needs",
];

export type Contexts = Record<string, unknown>;

/** The status functions as the job or step sees them (`if:` only). */
export interface Status {
  success: boolean;
  failure: boolean;
  cancelled: boolean;
}

const NO_STATUS: Status = { success: true, failure: false, cancelled: false };

function statusFunctions(status: Status): Map<string, FunctionDefinition> {
  const make = (name: string, value: () => boolean): [string, FunctionDefinition] => [
    name.toLowerCase(),
    { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value()) },
  ];
  return new Map([
    make("success", () => status.success),
    make("failure", () => status.failure),
    make("cancelled", () => status.cancelled),
    make("always", () => true),
  ]);
}

export function toData(value: unknown): data.ExpressionData {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData;
}

export function fromData(value: data.ExpressionData): unknown {
  return JSON.parse(JSON.stringify(value, data.replacer) ?? "null");
}

export class ExpressionFailure extends Error {}

export function evaluateExpression(
  expression: string,
  contexts: Contexts,
  status: Status = NO_STATUS,
): data.ExpressionData {
  const functions = statusFunctions(status);
  try {
    const lexed = new Lexer(expression).lex();
    const ast = new Parser(lexed.tokens, CONTEXT_NAMES, [...functions.values()]).parse();
    const dictionary = toData(contexts);
    return new Evaluator(ast, dictionary as data.Dictionary, functions).evaluate();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ExpressionFailure(`The expression \`${expression}\` failed: ${message}`);
  }
}

/** A template token's value: expressions evaluated, mappings and sequences walked. */
export function evaluateToken(
  token: TemplateToken | undefined,
  contexts: Contexts,
  status?: Status,
): unknown {
  if (!token) return undefined;
  if (tokens.isBasicExpression(token)) {
    return fromData(evaluateExpression(token.expression, contexts, status));
  }
  if (tokens.isString(token)) return token.value;
  if (tokens.isNumber(token)) return token.value;
  if (tokens.isBoolean(token)) return token.value;
  if (tokens.isSequence(token)) {
    const out: unknown[] = [];
    for (const item of token) out.push(evaluateToken(item, contexts, status));
    return out;
  }
  if (tokens.isMapping(token)) {
    const out: Record<string, unknown> = {};
    for (const item of token) {
      out[evaluateString(item.key, contexts, status)] = evaluateToken(item.value, contexts, status);
    }
    return out;
  }
  if (tokens.isLiteral(token)) return null;
  throw new ExpressionFailure(`${token.typeName()} tokens are not emulated`);
}

/**
 * A token as the string the runner passes on (inputs, env, `run:`): GitHub's coercion of the
 * result (null → "", booleans "true"/"false", numbers as GitHub formats them); objects and
 * arrays as JSON.
 */
export function evaluateString(
  token: TemplateToken | undefined,
  contexts: Contexts,
  status?: Status,
): string {
  if (!token) return "";
  if (tokens.isBasicExpression(token)) {
    const result = evaluateExpression(token.expression, contexts, status);
    if (result.kind === data.Kind.Dictionary || result.kind === data.Kind.Array) {
      return JSON.stringify(fromData(result));
    }
    return result.coerceString();
  }
  if (tokens.isLiteral(token)) {
    if (tokens.isString(token)) return token.value;
    if (tokens.isNumber(token)) return toData(token.value).coerceString();
    if (tokens.isBoolean(token)) return String(token.value);
    return "";
  }
  return JSON.stringify(evaluateToken(token, contexts, status));
}

/** A mapping of strings (env, with, outputs). */
export function evaluateStringMap(
  token: TemplateToken | undefined,
  contexts: Contexts,
  status?: Status,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!token) return out;
  if (tokens.isBasicExpression(token)) {
    const value = evaluateToken(token, contexts, status);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, item] of Object.entries(value)) {
        out[key] = typeof item === "string" ? item : JSON.stringify(item);
      }
    }
    return out;
  }
  if (!tokens.isMapping(token)) return out;
  for (const item of token) {
    out[evaluateString(item.key, contexts, status)] = evaluateString(item.value, contexts, status);
  }
  return out;
}

/** An `if:` condition (already normalised by the converter, e.g. `success() && (...)`). */
export function evaluateCondition(
  expression: string | undefined,
  contexts: Contexts,
  status: Status,
): boolean {
  return truthy(evaluateExpression(expression ?? "success()", contexts, status));
}
