/**
 * What every action reads the same way, without loading the GitHub client: the workspace, the
 * `root` input resolved in it, and secrets masked line by line.
 */
import { resolve } from "node:path";
import * as core from "@actions/core";

/** The runner's workspace (GITHUB_WORKSPACE), or the current directory outside a runner. */
export function actionWorkspace(): string {
  return process.env.GITHUB_WORKSPACE ?? process.cwd();
}

/** The pinline repository: the `root` input, relative to the workspace. */
export function actionRoot(): string {
  return resolve(actionWorkspace(), core.getInput("root") || ".");
}

/**
 * Masks a secret line by line (an armored or PEM key spans lines, and the runner masks per
 * line), before anything else can print it.
 */
export function maskLines(secret: string): void {
  for (const line of secret.split(/\r?\n/)) if (line.trim()) core.setSecret(line.trim());
}
