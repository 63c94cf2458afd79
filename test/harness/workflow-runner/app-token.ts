/**
 * actions/create-github-app-token, emulated from its source (v3.1.1, 1b10c78c; main.js,
 * lib/main.js, lib/get-permissions-from-inputs.js, lib/post.js and the bundled
 * @octokit/auth-app / universal-github-app-jwt): the same inputs, requests, outputs, error
 * messages and post-step revocation, against the simulator's API.
 * https://github.com/actions/create-github-app-token
 */
import { createSign } from "node:crypto";

export interface AppTokenResult {
  ok: boolean;
  outputs: Record<string, string>;
  /** What the action logs (core.info lines, `::error::` on failure). */
  stdout: string;
  error?: string;
  /** The token to revoke in the post step (unless skip-token-revoke). */
  revoke?: { apiUrl: string; token: string };
  /** Values the action masks (core.setSecret). */
  masks: string[];
}

/** The action's own messages, verbatim from its source. */
export const APP_TOKEN_ERRORS = {
  missingClientId:
    "The 'client-id' (or deprecated 'app-id') input must be set to a non-empty string. If using a secret or variable, ensure it is available in this workflow context.",
  missingPrivateKey: "[@octokit/auth-app] privateKey option is required",
};

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/** universal-github-app-jwt: iat 30 s in the past, exp 10 min after, iss the client/app id. */
export function appJwt(
  id: string,
  privateKey: string,
  now = Math.floor(Date.now() / 1000),
): string {
  const key = privateKey.replace(/\\n/g, "\n");
  const iat = now - 30;
  const header = base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify({ iat, exp: iat + 600, iss: id }));
  const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** getPermissionsFromInputs: `permission-<name>` inputs with a value; undefined = inherit all. */
export function permissionsFromInputs(
  inputs: Record<string, string>,
): Record<string, string> | undefined {
  let permissions: Record<string, string> | undefined;
  for (const [key, value] of Object.entries(inputs)) {
    if (!key.toLowerCase().startsWith("permission-") || !value) continue;
    const name = key.slice("permission-".length).toLowerCase().replaceAll("-", "_");
    permissions = { ...(permissions ?? {}), [name]: value };
  }
  return permissions;
}

async function request(
  method: string,
  url: string,
  authorization: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method,
    headers: {
      accept: "application/vnd.github+json",
      authorization,
      "content-type": "application/json",
      "x-github-api-version": "2022-11-28",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (!response.ok) {
    // @octokit/request's RequestError message: the body's message and documentation link.
    const message = typeof data.message === "string" ? data.message : response.statusText;
    const docs = typeof data.documentation_url === "string" ? ` - ${data.documentation_url}` : "";
    const error = new Error(`${message}${docs}`) as Error & { status: number };
    error.status = response.status;
    throw error;
  }
  return data;
}

export async function createAppToken(
  inputs: Record<string, string>,
  env: { repository: string; repositoryOwner: string; apiUrl: string },
): Promise<AppTokenResult> {
  const log: string[] = [];
  const masks: string[] = [];
  const fail = (message: string): AppTokenResult => {
    log.push(`::error::${message}`);
    return { ok: false, outputs: {}, stdout: log.join("\n"), error: message, masks };
  };
  const clientId = inputs["client-id"] || inputs["app-id"] || "";
  if (!clientId) return fail(APP_TOKEN_ERRORS.missingClientId);
  const privateKey = inputs["private-key"] ?? "";
  const owner = inputs.owner ?? "";
  const repositories = (inputs.repositories ?? "")
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const skipRevoke = (inputs["skip-token-revoke"] ?? "false").trim().toLowerCase() === "true";
  const permissions = permissionsFromInputs(inputs);
  const apiUrl = (inputs["github-api-url"] || env.apiUrl).replace(/\/$/, "");

  let parsedOwner = owner;
  let names = repositories;
  if (!owner && repositories.length === 0) {
    const [repoOwner = "", repo = ""] = env.repository.split("/");
    parsedOwner = repoOwner;
    names = [repo];
    log.push(
      `Inputs 'owner' and 'repositories' are not set. Creating token for this repository (${repoOwner}/${repo}).`,
    );
  } else if (owner && repositories.length === 0) {
    log.push(
      `Input 'repositories' is not set. Creating token for all repositories owned by ${owner}.`,
    );
  } else if (!owner) {
    parsedOwner = env.repositoryOwner;
  }
  // createAppAuth({ appId, privateKey }) throws before any request.
  if (!privateKey) return fail(APP_TOKEN_ERRORS.missingPrivateKey);

  try {
    const jwt = `bearer ${appJwt(clientId, privateKey)}`;
    const installation =
      names.length > 0
        ? await request("GET", `${apiUrl}/repos/${parsedOwner}/${names[0]}/installation`, jwt)
        : await request("GET", `${apiUrl}/users/${parsedOwner}/installation`, jwt);
    const installationId = String(installation.id);
    const body: Record<string, unknown> = {};
    if (names.length > 0) body.repositories = names;
    if (permissions) body.permissions = permissions;
    const created = await request(
      "POST",
      `${apiUrl}/app/installations/${installationId}/access_tokens`,
      jwt,
      body,
    );
    const token = String(created.token);
    masks.push(token);
    return {
      ok: true,
      outputs: {
        token,
        "installation-id": installationId,
        "app-slug": String(installation.app_slug ?? ""),
      },
      stdout: log.join("\n"),
      masks,
      revoke: skipRevoke ? undefined : { apiUrl, token },
    };
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

/** lib/post.js: DELETE /installation/token with the token itself; failures only warn. */
export async function revokeAppToken(revoke: { apiUrl: string; token: string }): Promise<string> {
  try {
    await request("DELETE", `${revoke.apiUrl}/installation/token`, `token ${revoke.token}`);
    return "Token revoked";
  } catch (error) {
    return `::warning::Token revocation failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}
