/**
 * What a GitHub App does with its JWT — find its installation, mint installation access tokens
 * — and revoking a token: the calls actions/create-github-app-token makes (main: GET
 * /repos/{owner}/{repo}/installation or GET /users/{username}/installation, then POST
 * /app/installations/{id}/access_tokens; post: DELETE /installation/token).
 */
import { mintInstallationToken } from "./apps.js";
import type { SimulatorCore } from "./core.js";
import {
  errorBody,
  HttpError,
  integerParam,
  notFound,
  optionalObject,
  type RequestContext,
  type Router,
  unprocessable,
} from "./http.js";
import { appJson, installationJson, repositoryJson } from "./json.js";
import type { App, AppPermissions } from "./model.js";

/** The routes only an App's JWT may call. */
export const JWT_ROUTES = new Set([
  "GET /app",
  "GET /repos/{owner}/{repo}/installation",
  "GET /users/{username}/installation",
  "POST /app/installations/{installation_id}/access_tokens",
]);

function jwtApp(request: RequestContext): App {
  if (request.auth.kind !== "app") {
    throw new HttpError(401, errorBody("A JSON web token could not be decoded"));
  }
  return request.auth.app;
}

export function registerAppRoutes(router: Router, core: SimulatorCore): void {
  router.add("GET", "/app", (request) => ({
    status: 200,
    body: { ...appJson(core, jwtApp(request)), installations_count: 1 },
  }));

  // Public for any token: https://docs.github.com/en/rest/apps/apps#get-an-app
  router.add("GET", "/apps/{app_slug}", (request) => {
    const app = core.appBySlug(request.params.app_slug ?? "");
    if (!app) throw new HttpError(404, errorBody("Not Found"));
    return { status: 200, body: appJson(core, app) };
  });

  router.add("GET", "/repos/{owner}/{repo}/installation", (request) => ({
    status: 200,
    body: installationJson(core, jwtApp(request)),
  }));

  router.add("GET", "/users/{username}/installation", (request) => {
    const app = jwtApp(request);
    if ((request.params.username ?? "").toLowerCase() !== core.owner.toLowerCase()) {
      throw notFound();
    }
    return { status: 200, body: installationJson(core, app) };
  });

  router.add("POST", "/app/installations/{installation_id}/access_tokens", (request) => {
    const app = jwtApp(request);
    if (integerParam(request, "installation_id") !== app.installationId) throw notFound();
    const repositories = repositoriesAsked(core, request.body);
    const permissions = optionalObject(request.body, "permissions") as AppPermissions | undefined;
    const token = mintInstallationToken(app, permissions, repositories);
    core.state.installationTokens.push(token);
    return {
      status: 201,
      body: {
        token: token.token,
        expires_at: new Date(token.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions: token.permissions,
        repository_selection: "selected",
        ...(repositories ? { repositories: [repositoryJson(core)] } : {}),
      },
    };
  });

  router.add("DELETE", "/installation/token", (request) => {
    if (request.auth.kind !== "installation") {
      throw new HttpError(403, errorBody("Resource not accessible by personal access token"));
    }
    request.auth.token.revoked = true;
    return { status: 204 };
  });
}

/**
 * `repositories` (names) and `repository_ids` narrow a token; this installation has one
 * repository, so naming any other is GitHub's 422.
 */
function repositoriesAsked(
  core: SimulatorCore,
  body: Record<string, unknown>,
): string[] | undefined {
  const names = body.repositories;
  const ids = body.repository_ids;
  if (names === undefined && ids === undefined) return undefined;
  const unknown = () =>
    unprocessable(
      "There is at least one repository that does not exist or is not accessible to the parent installation.",
    );
  const asked: string[] = [];
  if (names !== undefined) {
    if (!Array.isArray(names) || !names.every((name) => typeof name === "string")) {
      throw unprocessable("Invalid request.\n\nFor 'properties/repositories', it is not an array.");
    }
    for (const name of names) {
      // actions/create-github-app-token may pass "owner/name"; the REST API takes names.
      if (name.toLowerCase() !== core.repo.toLowerCase()) throw unknown();
      asked.push(core.repo);
    }
  }
  if (ids !== undefined) {
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "number")) {
      throw unprocessable(
        "Invalid request.\n\nFor 'properties/repository_ids', it is not an array.",
      );
    }
    for (const id of ids) {
      if (id !== core.repoId) throw unknown();
      asked.push(core.repo);
    }
  }
  if (asked.length === 0) throw unknown();
  return [...new Set(asked)];
}
