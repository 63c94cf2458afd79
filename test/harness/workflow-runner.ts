/**
 * A model of which workflow file version GitHub runs for each event, with which context,
 * token and secrets, and a runner that executes a workflow job's steps as GitHub's runner
 * would, against the GitHub simulator (test/harness/github-simulator.ts).
 *
 * - plannedRuns(sim, event): the workflow files GitHub starts, from the right commit, with
 *   GITHUB_REF/GITHUB_SHA, the webhook payload and whether secrets and a write token apply.
 * - runWorkflow(sim, planned): the jobs in `needs` order (if, matrix, environment rules,
 *   permissions → the simulator's GITHUB_TOKEN, secrets) and their steps: actions/checkout
 *   with real git, actions/create-github-app-token emulated from its source, local and mapped
 *   node actions run with node like the runner runs them, `run:` with bash.
 * - validateWorkflowFile(text, file): what GitHub's parser (@actions/workflow-parser) reports.
 *
 * Workflow files are parsed by @actions/workflow-parser and every `${{ }}` is evaluated by
 * @actions/expressions: nothing here parses YAML workflows or expressions by hand.
 * Documented behaviour and sources: test/harness/github-behaviour.md points 1–4 and 11, cited in
 * test/workflow-runner.test.ts.
 */
import { parseWorkflowText } from "./workflow-runner/parser.js";

export { APP_TOKEN_ERRORS, appJwt } from "./workflow-runner/app-token.js";
export { plannedRuns } from "./workflow-runner/events.js";
export {
  cleanup,
  expandMatrix,
  type RunOptions,
  runWorkflow,
  SKIPPED_ACTIONS,
  tokenPermissions,
} from "./workflow-runner/run.js";
export type {
  CompletedRun,
  JobResult,
  PlannedRun,
  RepositorySettings,
  StepResult,
  TriggerEvent,
  WorkflowRunResult,
} from "./workflow-runner/types.js";

/** The errors @actions/workflow-parser reports for a workflow file (empty when valid). */
export function validateWorkflowFile(text: string, file: string): string[] {
  return parseWorkflowText(text, file).errors;
}
