/**
 * GitHub Apps: their keys, the JWTs they authenticate with, installation access tokens and
 * their permissions, and GitHub Actions' own App behind every workflow's GITHUB_TOKEN.
 *
 * - A JWT is RS256-signed with the App's private key; `iss` is the App's id or client id; `iat`
 *   not in the future; `exp` in the future and "no more than 10 minutes into the future"
 *   (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app).
 * - "The installation access token will expire after 1 hour", and may be narrowed to some
 *   repositories and permissions, never widened
 *   (https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-an-installation-access-token-for-a-github-app).
 * - "The GITHUB_TOKEN secret is a GitHub App installation access token"; a workflow's
 *   `permissions:` grants exactly what it names (the rest none, metadata read), and fork pull
 *   requests get a read-only one
 *   (https://docs.github.com/en/actions/concepts/security/github_token).
 *
 * JWT and token lifetimes run on real time, not the simulated clock: clients mint JWTs from
 * Date.now(), and tests move the simulated clock by days.
 */
import { createPublicKey, createVerify, generateKeyPairSync, type KeyObject } from "node:crypto";
import { errorBody, HttpError } from "./http.js";
import type { AccessLevel, App, AppPermissions, InstallationToken } from "./model.js";

/** GitHub Actions' App: its id and its bot account's (a different id space) are GitHub's. */
export const GITHUB_ACTIONS = {
  appId: 15368,
  slug: "github-actions",
  name: "GitHub Actions",
  botLogin: "github-actions[bot]",
  botUserId: 41898282,
  nodeId: "MDM6QXBwMTUzNjg=",
  owner: "github",
  description: "Automate your workflow from idea to production",
  externalUrl: "https://help.github.com/en/actions",
  createdAt: "2018-07-30T09:30:17Z",
  permissions: {
    actions: "write",
    checks: "write",
    contents: "write",
    deployments: "write",
    issues: "write",
    metadata: "read",
    pull_requests: "write",
    statuses: "write",
  } as AppPermissions,
  events: ["check_run", "check_suite", "pull_request", "push", "workflow_dispatch"],
};

/** The account owning GitHub Actions' App. */
export const GITHUB_ORG = { login: "github", id: 9919, nodeId: "MDEyOk9yZ2FuaXphdGlvbjk5MTk=" };

const TOKEN_LIFETIME_MS = 3_600_000;
const JWT_MAX_LIFETIME_S = 600;

/**
 * The `permissions:` keys a workflow may use, and the App permission each one is. id-token
 * only lets the job request an OIDC token: it is no permission of the token itself.
 */
const WORKFLOW_PERMISSION_KEYS: Record<string, string | null> = {
  actions: "actions",
  attestations: "attestations",
  checks: "checks",
  contents: "contents",
  deployments: "deployments",
  discussions: "discussions",
  "id-token": null,
  issues: "issues",
  models: "models",
  packages: "packages",
  pages: "pages",
  "pull-requests": "pull_requests",
  "repository-projects": "repository_projects",
  "security-events": "security_events",
  statuses: "statuses",
};

/** A workflow's `permissions:` map as the installation permissions of its GITHUB_TOKEN. */
export function workflowPermissions(
  permissions: Record<string, "read" | "write" | "none">,
  readOnly: boolean,
): AppPermissions {
  const granted: AppPermissions = { metadata: "read" };
  for (const [key, level] of Object.entries(permissions)) {
    if (!(key in WORKFLOW_PERMISSION_KEYS)) {
      throw new Error(`"${key}" is not a permission a workflow can grant its GITHUB_TOKEN`);
    }
    const name = WORKFLOW_PERMISSION_KEYS[key];
    if (!name || level === "none") continue;
    granted[name] = readOnly ? "read" : level;
  }
  return granted;
}

const LEVEL_RANK: Record<AccessLevel, number> = { read: 1, write: 2 };

/** Whether `permissions` grant at least `level` of `name`. */
export function grants(permissions: AppPermissions, name: string, level: AccessLevel): boolean {
  const held = permissions[name];
  return held !== undefined && LEVEL_RANK[held] >= LEVEL_RANK[level];
}

/** An App's keys, made on first use (RSA key generation is slow enough to matter in tests). */
export class AppKeys {
  private pair: { privateKey: string; publicKey: KeyObject } | undefined;

  get privateKey(): string {
    return this.keys().privateKey;
  }

  /** The public key, or undefined while no private key was ever handed out. */
  get publicKey(): KeyObject | undefined {
    return this.pair?.publicKey;
  }

  private keys() {
    if (!this.pair) {
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
      this.pair = { privateKey: pem, publicKey: createPublicKey(privateKey) };
    }
    return this.pair;
  }
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, errorBody(message));
}

function decodeSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw unauthorized("A JSON web token could not be decoded");
  }
}

/** Whether a bearer credential is shaped like a JWT (three base64url segments). */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(credential);
}

/**
 * The App a JWT authenticates, or 401. The issuer names the App (id or client id), whose
 * public key must verify the RS256 signature; then the time claims are checked.
 */
export function verifyJwt(
  jwt: string,
  findApp: (issuer: string) => { app: App; keys: AppKeys } | undefined,
  nowMs: number = Date.now(),
): App {
  const [headerPart = "", payloadPart = "", signaturePart = ""] = jwt.split(".");
  const header = decodeSegment(headerPart) as { alg?: unknown };
  const payload = decodeSegment(payloadPart) as { iss?: unknown; iat?: unknown; exp?: unknown };
  if (header.alg !== "RS256") throw unauthorized("A JSON web token could not be decoded");
  const found =
    typeof payload.iss === "string" || typeof payload.iss === "number"
      ? findApp(String(payload.iss))
      : undefined;
  const publicKey = found?.keys.publicKey;
  if (!found || !publicKey) throw unauthorized("A JSON web token could not be decoded");
  const verifier = createVerify("RSA-SHA256");
  verifier.update(`${headerPart}.${payloadPart}`);
  if (!verifier.verify(publicKey, Buffer.from(signaturePart, "base64url"))) {
    throw unauthorized("A JSON web token could not be decoded");
  }
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.iat !== "number" || payload.iat > now) {
    throw unauthorized(
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
    );
  }
  if (typeof payload.exp !== "number" || payload.exp <= now) {
    throw unauthorized(
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
    );
  }
  if (payload.exp - now > JWT_MAX_LIFETIME_S) {
    throw unauthorized("'Expiration time' claim ('exp') is too far in the future");
  }
  return found.app;
}

/** GitHub's installation-token form: ghs_ and 36 characters. */
function newTokenString(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let text = "ghs_";
  for (let i = 0; i < 36; i++) text += alphabet[Math.floor(Math.random() * alphabet.length)];
  return text;
}

/**
 * An installation token of `app`, with the installation's permissions or a subset of them:
 * asking for more is GitHub's 422.
 */
export function mintInstallationToken(
  app: App,
  requested: AppPermissions | undefined,
  repositories: string[] | undefined,
): InstallationToken {
  let permissions: AppPermissions = { ...app.permissions };
  if (requested) {
    for (const [name, level] of Object.entries(requested)) {
      if (level === undefined) continue;
      if ((level !== "read" && level !== "write") || !grants(app.permissions, name, level)) {
        throw new HttpError(
          422,
          errorBody("The permissions requested are not granted to this installation."),
        );
      }
    }
    permissions = { ...requested, metadata: "read" };
  }
  return {
    token: newTokenString(),
    appId: app.id,
    permissions,
    expiresAt: Date.now() + TOKEN_LIFETIME_MS,
    ...(repositories ? { repositories } : {}),
    revoked: false,
  };
}

/** A token GitHub still accepts. */
export function tokenUsable(token: InstallationToken, nowMs: number = Date.now()): boolean {
  return !token.revoked && token.expiresAt > nowMs;
}
