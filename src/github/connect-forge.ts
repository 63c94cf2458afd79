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

function repositoryFromRemote(root: string): RepositoryRef | undefined {
  try {
    const url = execFileSync("git", ["-C", root, "remote", "get-url", "origin"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const match = REMOTE.exec(url);
    return match ? { owner: match[1] as string, repo: match[2] as string } : undefined;
  } catch {
    return undefined;
  }
}

export function resolveRepository(root: string, given?: string): RepositoryRef {
  if (given) return parseRepository(given);
  const fromEnv = process.env.GITHUB_REPOSITORY;
  if (fromEnv) return parseRepository(fromEnv);
  const fromRemote = repositoryFromRemote(root);
  if (fromRemote) return fromRemote;
  throw new UsageError("cannot tell which GitHub repository this is", {
    hint: "pass --repo owner/name or set GITHUB_REPOSITORY",
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
