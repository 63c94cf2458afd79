/**
 * Checks recorded simulator responses against GitHub's own OpenAPI description (the one
 * Octokit's types are generated from), so the simulator cannot drift into shapes production
 * code would never see from GitHub.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { fullFormats } from "ajv-formats/dist/formats.js";
import { isRecord } from "./http.js";

const SPEC_ID = "https://api.github.com/openapi.json";

export interface ResponseToCheck {
  method: string;
  route: string;
  status: number;
  body: unknown;
}

export interface OpenApiValidator {
  /** What is wrong with one response (route, status and ajv's errors), or undefined. */
  check(response: ResponseToCheck): string | undefined;
  /** Whether the description has this operation (method + path template). */
  hasOperation(method: string, route: string): boolean;
}

/**
 * Makes GitHub's OpenAPI 3.0 schemas mean to ajv what they mean to GitHub, in place (so every
 * JSON pointer into the document stays valid):
 * - `nullable` needs a `type` next to it for ajv, but GitHub also puts it on oneOf/allOf/$ref
 *   wrappers: those become anyOf [null, the schema];
 * - a nullable enum (a check run's conclusion) allows null, which ajv wants listed in the enum;
 * - oneOf becomes anyOf: GitHub's alternatives overlap (a 409's basic-error and
 *   repository-rule-violation-error accept the same bodies), so "exactly one" can never hold.
 */
function normaliseSchema(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) normaliseSchema(item);
    return;
  }
  if (!isRecord(node)) return;
  for (const value of Object.values(node)) normaliseSchema(value);
  if (Array.isArray(node.oneOf)) {
    node.anyOf = node.oneOf;
    delete node.oneOf;
  }
  if (node.nullable === true && Array.isArray(node.enum) && !node.enum.includes(null)) {
    node.enum = [...node.enum, null];
  }
  if (node.nullable === true && node.type === undefined) {
    const inner: Record<string, unknown> = { ...node };
    delete inner.nullable;
    for (const key of Object.keys(node)) delete node[key];
    node.anyOf = [{ type: "null" }, inner];
  }
}

/** A JSON pointer segment inside a URI fragment. */
function pointerSegment(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, "~0").replace(/\//g, "~1"));
}

/**
 * Where the description contradicts itself, the simulator follows GitHub's behaviour: the REST
 * `check-run` schema leaves `stale` out of `conclusion`, while the docs say an incomplete run
 * "becomes stale" after 14 days (docs.github.com/en/rest/guides/using-the-rest-api-to-
 * interact-with-checks) and the same description's check_run webhook schemas list it.
 */
function correctSchema(spec: Record<string, unknown>): void {
  const components = isRecord(spec.components) ? spec.components : {};
  const schemas = isRecord(components.schemas) ? components.schemas : {};
  const checkRun = isRecord(schemas["check-run"]) ? schemas["check-run"] : {};
  const properties = isRecord(checkRun.properties) ? checkRun.properties : {};
  const conclusion = properties.conclusion;
  if (
    isRecord(conclusion) &&
    Array.isArray(conclusion.enum) &&
    !conclusion.enum.includes("stale")
  ) {
    conclusion.enum = [...conclusion.enum, "stale"];
  }
}

function loadSpec(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const path = require.resolve("@octokit/openapi/generated/api.github.com.json");
  const spec: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (!isRecord(spec)) throw new Error("unreadable OpenAPI description");
  correctSchema(spec);
  normaliseSchema(spec);
  return spec;
}

export function createOpenApiValidator(): OpenApiValidator {
  const spec = loadSpec();
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats.default(ajv);
  // GitHub answers "" for unset URL fields (a deployment status's target_url, whose default
  // in the description itself is ""); "uri" would refuse it.
  const uri = fullFormats.uri;
  if (typeof uri !== "function") throw new Error("ajv-formats has no uri validator");
  ajv.addFormat("uri", { validate: (value: string) => value === "" || uri(value) === true });
  ajv.addSchema(spec, SPEC_ID);
  const compiled = new Map<string, ValidateFunction>();
  const paths = isRecord(spec.paths) ? spec.paths : {};
  const components = isRecord(spec.components) ? spec.components : {};

  const operation = (method: string, route: string) => {
    const path = paths[route];
    const op = isRecord(path) ? path[method.toLowerCase()] : undefined;
    return isRecord(op) ? op : undefined;
  };

  /** Pointer to the JSON schema of a response, following a $ref to components/responses. */
  const schemaPointer = (method: string, route: string, status: number): string | undefined => {
    const responses = operation(method, route)?.responses;
    const response = isRecord(responses) ? responses[String(status)] : undefined;
    if (!isRecord(response)) return undefined;
    let pointer = `#/paths/${pointerSegment(route)}/${method.toLowerCase()}/responses/${status}`;
    let target: unknown = response;
    if (isRecord(target) && typeof target.$ref === "string") {
      const name = target.$ref.replace("#/components/responses/", "");
      target = isRecord(components.responses) ? components.responses[name] : undefined;
      pointer = `#/components/responses/${pointerSegment(name)}`;
    }
    const content = isRecord(target) ? target.content : undefined;
    if (!isRecord(content) || !isRecord(content["application/json"])) return undefined;
    return `${pointer}/content/${pointerSegment("application/json")}/schema`;
  };

  const validatorFor = (pointer: string): ValidateFunction => {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `${SPEC_ID}${pointer}` });
      compiled.set(pointer, validate);
    }
    return validate;
  };

  return {
    hasOperation: (method, route) => operation(method, route) !== undefined,
    check(response) {
      const label = `${response.method} ${response.route} → ${response.status}`;
      const known = operation(response.method, response.route) !== undefined;
      // An unknown URL is answered like any GitHub error; any other answer there is a bug.
      if (!known && response.status < 400) {
        return `${label}: no such operation in GitHub's OpenAPI description`;
      }
      if (response.status === 204) {
        return response.body === undefined ? undefined : `${label}: 204 with a body`;
      }
      // Errors the description does not list for the route (401, injected 5xx...) are checked
      // against basic-error, the shape every GitHub error has.
      const pointer =
        schemaPointer(response.method, response.route, response.status) ??
        (response.status >= 400 ? "#/components/schemas/basic-error" : undefined);
      if (!pointer) return `${label}: status not described for this operation`;
      const validate = validatorFor(pointer);
      if (validate(response.body)) return undefined;
      const errors = (validate.errors ?? [])
        .slice(0, 10)
        .map(
          (error) =>
            `  ${error.instancePath || "/"} ${error.message ?? ""} ${JSON.stringify(error.params)}`,
        )
        .join("\n");
      return `${label}:\n${errors}`;
    },
  };
}
