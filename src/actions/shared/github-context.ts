/**
 * What every GitHub-facing action reads the same way: the token input (masked), the workspace
 * root, and the event payload the runner wrote to GITHUB_EVENT_PATH.
 */
import { readFileSync } from "node:fs";
import * as core from "@actions/core";
import { connectForge } from "../../github/connect-forge.js";
import type { Forge } from "../../github/forge.js";

export { actionRoot } from "./workspace.js";

export function actionForge(root: string): Forge {
  const token = core.getInput("github-token", { required: true });
  core.setSecret(token);
  return connectForge({ root, token, log: (message) => core.warning(message) });
}

/** The webhook payload of the event that started the workflow ({} when there is none). */
export function readEvent(): Record<string, unknown> {
  const path = process.env.GITHUB_EVENT_PATH;
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A link to this workflow run, for check runs and PR bodies. */
export function runUrl(): string | undefined {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID } = process.env;
  return GITHUB_SERVER_URL && GITHUB_REPOSITORY && GITHUB_RUN_ID
    ? `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`
    : undefined;
}
