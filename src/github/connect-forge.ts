/**
 * Connects to the repository's forge for a CLI verb or an action: the token from the input or
 * GITHUB_TOKEN/GH_TOKEN, the repository from the input, GITHUB_REPOSITORY or the `origin`
 * remote, and the API URL from GITHUB_API_URL.
 */
import { execFileSync } from "node:child_process";
import { UsageError } from "../core/errors.js";
import { createOctokit } from "./create-octokit.js";
import type { Forge, RepositoryRef } from "./forge.js";
import { OctokitForge } from "./octokit-forge.js";

const OWNER_REPO = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;
const REMOTE = /[:/]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/;

export function parseRepository(text: string): RepositoryRef {
  const match = OWNER_REPO.exec(text.trim());
  if (!match) {
    throw new UsageError(`"${text}" is not a repository`, { hint: "write it as owner/name" });
  }
  return { owner: match[1] as string, repo: match[2] as string };
}

/** The hosts a GitHub remote may name: github.com, and the server GITHUB_SERVER_URL/GITHUB_API_URL name (GHES). */
function githubHosts(): Set<string> {
  const hosts = new Set(["github.com", "www.github.com", "ssh.github.com"]);
  for (const value of [process.env.GITHUB_SERVER_URL, process.env.GITHUB_API_URL]) {
    try {
      if (value) hosts.add(new URL(value).hostname.replace(/^api\./, ""));
    } catch {
      // not a URL: no host to add
    }
  }
  return hosts;
}

/** The host of a git remote URL (https://host/…, ssh://git@host/…, git@host:…), or undefined for a path. */
function remoteHost(url: string): string | undefined {
  const scp = /^[\w.-]+@([^:/]+):/.exec(url);
  if (scp) return scp[1];
  try {
    const parsed = new URL(url);
    return parsed.protocol === "file:" ? undefined : parsed.hostname;
  } catch {
    return undefined;
  }
}

function repositoryFromRemote(root: string): RepositoryRef | undefined {
  let url: string;
  try {
    url = execFileSync("git", ["-C", root, "remote", "get-url", "origin"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
  const host = remoteHost(url);
  const match = REMOTE.exec(url);
  if (!host || !githubHosts().has(host) || !match) {
    throw new UsageError(`origin is ${url}, not a GitHub repository`, {
      hint: "pass --repo OWNER/NAME or set GITHUB_REPOSITORY",
    });
  }
  return { owner: match[1] as string, repo: match[2] as string };
}

export function resolveRepository(root: string, given?: string): RepositoryRef {
  if (given) return parseRepository(given);
  const fromEnv = process.env.GITHUB_REPOSITORY;
  if (fromEnv) return parseRepository(fromEnv);
  const fromRemote = repositoryFromRemote(root);
  if (fromRemote) return fromRemote;
  throw new UsageError("cannot tell which GitHub repository this is: there is no origin remote", {
    hint: "pass --repo OWNER/NAME, set GITHUB_REPOSITORY, or add the GitHub repository as origin",
  });
}

export function connectForge(input: {
  root: string;
  repository?: string | undefined;
  token?: string | undefined;
  log?: (message: string) => void;
}): Forge {
  const token = input.token || process.env.GITHUB_TOKEN || process.env.GH_TOKEN;
  if (!token) {
    throw new UsageError("no GitHub token", {
      hint: "set GITHUB_TOKEN (or GH_TOKEN); in a workflow pass github-token",
    });
  }
  const repository = resolveRepository(input.root, input.repository);
  const octokit = createOctokit({ token, ...(input.log ? { log: input.log } : {}) });
  return new OctokitForge(octokit, repository);
}
