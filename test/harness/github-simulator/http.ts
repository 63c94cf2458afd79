/**
 * The HTTP side of the simulator: routing by OpenAPI path template, GitHub's error shapes,
 * reading request bodies the way GitHub validates them, and Link-header pagination.
 */
import type { Credential, User } from "./model.js";

export const DOCS_URL = "https://docs.github.com/rest";

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RequestContext {
  method: string;
  /** The OpenAPI path template that matched, e.g. /repos/{owner}/{repo}/pulls/{pull_number}. */
  route: string;
  /** Path parameters, percent-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The JSON body (an empty object when there was none). */
  body: Record<string, unknown>;
  /** The request's absolute URL under the simulator's base URL (for Link headers). */
  url: URL;
  /** The account behind the token (for an App's tokens and JWTs: its bot account). */
  actor: User;
  /** What authenticated the request: a user's token, an installation token or an App's JWT. */
  auth: Credential;
}

export type Handler = (request: RequestContext) => Reply;

/** An error answer, thrown from anywhere in a handler. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

export function errorBody(message: string, extra: Record<string, unknown> = {}) {
  return { message, ...extra, documentation_url: DOCS_URL };
}

export function notFound(message = "Not Found"): HttpError {
  return new HttpError(404, errorBody(message));
}

export function forbidden(message = "Resource not accessible by personal access token"): HttpError {
  return new HttpError(403, errorBody(message));
}

export function conflict(message: string): HttpError {
  return new HttpError(409, errorBody(message));
}

export function notMergeable(message: string): HttpError {
  return new HttpError(405, errorBody(message));
}

export interface FieldError {
  resource: string;
  code: "missing" | "missing_field" | "invalid" | "already_exists" | "unprocessable" | "custom";
  field?: string;
  message?: string;
}

/** 422 "Validation Failed" with GitHub's per-field errors. */
export function validationFailed(errors: FieldError[]): HttpError {
  return new HttpError(422, errorBody("Validation Failed", { errors }));
}

/** 422 with a sentence instead of field errors (the "validation_failed_simple" shape). */
export function unprocessable(message: string, errors?: string[]): HttpError {
  return new HttpError(422, errorBody(message, errors ? { errors } : {}));
}

/** GitHub's answer to a body field of the wrong type. */
function invalidField(key: string, value: unknown, type: string): HttpError {
  return unprocessable(
    `Invalid request.\n\nFor 'properties/${key}', ${JSON.stringify(value)} is not ${type}.`,
  );
}

export function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidField(key, value, "a string");
  return value;
}

export function requiredString(body: Record<string, unknown>, key: string): string {
  const value = optionalString(body, key);
  if (value === undefined) {
    throw unprocessable(`Invalid request.\n\n"${key}" wasn't supplied.`);
  }
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidField(key, value, "a boolean");
  return value;
}

export function optionalStringArray(
  body: Record<string, unknown>,
  key: string,
): string[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw invalidField(key, value, "an array of strings");
  }
  return value;
}

export function optionalObject(
  body: Record<string, unknown>,
  key: string,
): Record<string, unknown> | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalidField(key, value, "an object");
  return value;
}

/** One of a closed set of strings (state, event, merge_method...). */
export function optionalEnum<T extends string>(
  body: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
): T | undefined {
  const value = optionalString(body, key);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw unprocessable(
      `Invalid request.\n\nFor 'properties/${key}', "${value}" is not one of ${allowed.join(", ")}.`,
    );
  }
  return value as T;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A path parameter that must be a positive integer (pull_number, check_run_id...). */
export function integerParam(request: RequestContext, name: string): number {
  const value = Number(request.params[name]);
  if (!Number.isInteger(value) || value <= 0) throw notFound();
  return value;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export interface RouteMatch {
  route: string;
  params: Record<string, string>;
  handler: Handler;
}

/**
 * Routes by method and OpenAPI path template. Parameters match one raw path segment, except
 * a trailing `{path}` or `{ref}` under git/ or contents/, which GitHub lets span slashes
 * (Octokit sends them percent-encoded, curl users often do not).
 */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, template: string, handler: Handler): void {
    const names: string[] = [];
    const greedy = /\/(contents|git\/refs?)\/\{\w+\}$/.test(template);
    const source = template
      .split("/")
      .map((segment, index, all) => {
        const param = /^\{(\w+)\}$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^$()[\]\\|-]/g, "\\$&");
        names.push(param[1] ?? "");
        return greedy && index === all.length - 1 ? "(.+)" : "([^/]+)";
      })
      .join("/");
    this.routes.push({ method, template, pattern: new RegExp(`^${source}$`), names, handler });
  }

  match(method: string, rawPath: string): RouteMatch | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const found = route.pattern.exec(rawPath);
      if (!found) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(found[i + 1] ?? "");
      });
      return { route: route.template, params, handler: route.handler };
    }
    return undefined;
  }

  /** The templates a path would match under any method (to name the route of a 404). */
  templateFor(rawPath: string): string | undefined {
    return this.routes.find((route) => route.pattern.test(rawPath))?.template;
  }
}

/**
 * One page of a list, as GitHub serves it: `per_page` (default 30, at most 100) and `page`,
 * with a Link header naming the next/last (and prev/first) pages so Octokit's paginate can
 * follow it.
 */
export function paginate<T>(
  request: RequestContext,
  items: readonly T[],
): { items: T[]; headers: Record<string, string> } {
  const perPage = clamp(Number(request.query.get("per_page") ?? 30) || 30, 1, 100);
  const page = Math.max(1, Number(request.query.get("page") ?? 1) || 1);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const link = (target: number, rel: string) => {
    const url = new URL(request.url);
    url.searchParams.set("per_page", String(perPage));
    url.searchParams.set("page", String(target));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links: string[] = [];
  if (page > 1) links.push(link(page - 1, "prev"), link(1, "first"));
  if (page < lastPage) links.push(link(page + 1, "next"), link(lastPage, "last"));
  return { items: slice, headers: links.length ? { link: links.join(", ") } : {} };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/** A list reply, paginated; `toJson` runs on the served page only (git reads are not free). */
export function listReply<T>(
  request: RequestContext,
  items: readonly T[],
  /** Each item's JSON; `page` is the page's items, for work done once per page. */
  toJson: (item: T, page: readonly T[]) => unknown = (item) => item,
): Reply {
  const page = paginate(request, items);
  return {
    status: 200,
    body: page.items.map((item) => toJson(item, page.items)),
    headers: page.headers,
  };
}
