/**
 * Workflow and action files read by GitHub's own parser, @actions/workflow-parser (the schema
 * and converters of actions/languageservices): the errors it reports, the `on:` filters and the
 * jobs as it normalises them (job and step `if:` become `success() && (...)`, strings with
 * `${{ }}` become `format(...)` expressions).
 *
 * The package imports its schema JSON without `with { type: "json" }`, which Node refuses
 * (actions/languageservices#387). A module hook adds the attribute for that package's JSON
 * files only, the fix downstream users apply (redwoodjs/local-ci#69).
 */
import { register } from "node:module";
import type { ActionTemplate } from "@actions/workflow-parser/actions/action-template";
import type { EventsConfig, WorkflowJob } from "@actions/workflow-parser/model/workflow-template";
import type { TemplateContext } from "@actions/workflow-parser/templates/template-context";
import type {
  MappingToken,
  SequenceToken,
  TemplateToken,
} from "@actions/workflow-parser/templates/tokens/index";

/** Node ≥ 20.6 (module.register); `importAssertions` is the field's name before 20.10. */
const JSON_IMPORT_HOOK = `export async function load(url, context, next) {
  const attributes = context.importAttributes ?? context.importAssertions ?? {};
  if (url.endsWith(".json") && url.includes("/@actions/workflow-parser/") && attributes.type === undefined) {
    const json = { ...attributes, type: "json" };
    return next(url, { ...context, importAttributes: json, importAssertions: json });
  }
  return next(url, context);
}`;

const HOOK_FLAG = Symbol.for("pinline.workflow-parser-json-hook");
const flags = globalThis as unknown as Record<symbol, boolean>;
if (!flags[HOOK_FLAG]) {
  register(`data:text/javascript,${encodeURIComponent(JSON_IMPORT_HOOK)}`);
  flags[HOOK_FLAG] = true;
}

const workflowParser = await import("@actions/workflow-parser");
const { convertOn } = await import("@actions/workflow-parser/model/converter/events");
const { convertJobs } = await import("@actions/workflow-parser/model/converter/jobs");
const { convertConcurrency } = await import("@actions/workflow-parser/model/converter/concurrency");
const { handleTemplateTokenErrors } = await import(
  "@actions/workflow-parser/model/converter/handle-errors"
);
const actionParser = await import("@actions/workflow-parser/actions/index");

export const tokens = {
  isBasicExpression: workflowParser.isBasicExpression,
  isBoolean: workflowParser.isBoolean,
  isLiteral: workflowParser.isLiteral,
  isMapping: workflowParser.isMapping,
  isNumber: workflowParser.isNumber,
  isSequence: workflowParser.isSequence,
  isString: workflowParser.isString,
};

export type { EventsConfig, MappingToken, SequenceToken, TemplateToken, WorkflowJob };

export interface ParsedWorkflow {
  file: string;
  /** `name:`, else the file path (what GitHub shows and `workflow_run.name` carries). */
  name: string;
  errors: string[];
  /** The whole file as template tokens (for what the converters drop: `with`, `permissions`…). */
  root: MappingToken | undefined;
  events: EventsConfig;
  jobs: WorkflowJob[];
}

/**
 * Parses and converts one workflow the way GitHub's library does, collecting every error
 * (schema, expressions, `on:` filters, cron, `needs` graph) rather than stopping at the first
 * kind, like `convertWorkflowTemplate(..., { errorPolicy: TryConversion })` does.
 */
export function parseWorkflowText(text: string, file: string): ParsedWorkflow {
  const result = workflowParser.parseWorkflow(
    { name: file, content: text },
    new workflowParser.NoOperationTraceWriter(),
  );
  const context: TemplateContext = result.context;
  let events: EventsConfig = {};
  let jobs: WorkflowJob[] = [];
  let name = file;
  let root: MappingToken | undefined;
  if (result.value && workflowParser.isMapping(result.value)) {
    root = result.value;
    const rootToken: TemplateToken = result.value;
    for (const item of result.value) {
      const key = workflowParser.isString(item.key) ? item.key.value : "";
      const value = item.value;
      switch (key) {
        case "on":
          events = handleTemplateTokenErrors(rootToken, context, {}, () =>
            convertOn(context, value),
          );
          break;
        case "jobs":
          jobs = handleTemplateTokenErrors(rootToken, context, [], () =>
            convertJobs(context, value),
          );
          break;
        case "concurrency":
          handleTemplateTokenErrors(rootToken, context, {}, () =>
            convertConcurrency(context, value),
          );
          break;
        case "name":
          if (workflowParser.isString(value) && value.value.trim() !== "") name = value.value;
          break;
      }
    }
  }
  return {
    file,
    name,
    errors: context.errors.getErrors().map((error) => error.message),
    root,
    events,
    jobs,
  };
}

export interface ParsedAction {
  errors: string[];
  template: ActionTemplate | undefined;
}

export function parseActionText(text: string, file: string): ParsedAction {
  const result = actionParser.parseAction(
    { name: file, content: text },
    new workflowParser.NoOperationTraceWriter(),
  );
  const template = result.value
    ? actionParser.convertActionTemplate(result.context, result.value, { errorPolicy: 1 })
    : undefined;
  return {
    errors: result.context.errors.getErrors().map((error) => error.message),
    template,
  };
}

/** The value under `key` in a mapping token. */
export function child(token: TemplateToken | undefined, key: string): TemplateToken | undefined {
  if (!token || !workflowParser.isMapping(token)) return undefined;
  return token.find(key);
}

/** A raw job mapping (`jobs.<id>`), for the keys the converter does not keep. */
export function rawJob(parsed: ParsedWorkflow, id: string): MappingToken | undefined {
  const job = child(child(parsed.root, "jobs"), id);
  return job && workflowParser.isMapping(job) ? job : undefined;
}

/** The raw step mappings of a job, in order (the converter's steps line up with them). */
export function rawSteps(parsed: ParsedWorkflow, id: string): MappingToken[] {
  const steps = child(rawJob(parsed, id), "steps");
  if (!steps || !workflowParser.isSequence(steps)) return [];
  const out: MappingToken[] = [];
  for (const step of steps) if (workflowParser.isMapping(step)) out.push(step);
  return out;
}

/** A literal string/number/boolean token's text (undefined for expressions and collections). */
export function literalText(token: TemplateToken | undefined): string | undefined {
  if (!token || !workflowParser.isLiteral(token)) return undefined;
  if (workflowParser.isString(token)) return token.value;
  if (workflowParser.isNumber(token)) return String(token.value);
  if (workflowParser.isBoolean(token)) return String(token.value);
  return undefined;
}
