/**
 * What one deploy did (DESIGN §2 "Deploy in detail"), as plain data: the steps with their
 * timings, every health measurement, the rollback if there was one. Summaries, PR comments,
 * webhooks, e-mail and the update metrics are all rendered from this one record.
 */
import type { HealthMeasurement } from "../core/evaluate-canary.js";
import type { Changelog } from "../core/schema-types.js";

export type { HealthMeasurement };

export type StepName = "verify" | "backup" | "migrate" | "apply" | "health" | "revert" | "finish";

export interface StepRecord {
  name: StepName;
  status: "ok" | "failed" | "skipped";
  startedAt: Date;
  durationMs: number;
  /** One line: what the step did, or why it failed. */
  detail: string;
}

export interface DeployReport {
  environment: string;
  /** The version that ran before (the previous pin). */
  from: string;
  /** The version the pin names now. */
  to: string;
  channel: string;
  /** success; rolled-back (the failure was undone); failed (and could not be undone). */
  outcome: "success" | "rolled-back" | "failed";
  startedAt: Date;
  finishedAt: Date;
  steps: StepRecord[];
  measurements: HealthMeasurement[];
  /**
   * The pre-update backup, when the backup step took one: pinline's (its file, restorable with
   * `pinline restore` unless it holds no data) or the pin's own hook.
   */
  backup?:
    | {
        method: "pg_dump" | "copy-archive" | "schema-only" | "hook";
        file?: string | undefined;
        /** false: only the schema was saved (no pg_dump fits and the COPY archive failed). */
        holdsData: boolean;
      }
    | undefined;
  /** Why the deploy failed, in one sentence (absent on success). */
  error?: string | undefined;
  rollback?:
    | {
        steps: StepRecord[];
        /** The health measurements of the previous version, once the rollback applied it. */
        measurements?: HealthMeasurement[] | undefined;
        /**
         * Set when the environment may be running no healthy version: the previous version
         * failed its health check after the rollback, or the rollback could not undo what ran.
         * One sentence; every notification shows it first.
         */
        critical?: string | undefined;
        /** The revert: a PR on GitHub, or a local commit without GitHub. */
        revert?: { pullRequest?: number; url?: string; commit?: string; merged?: boolean };
      }
    | undefined;
  release: {
    version: string;
    mandatory: boolean;
    releaseNotes?: string | undefined;
    changelog?: Changelog | undefined;
  };
  /** The workflow run (or the demo's log file). */
  runUrl?: string | undefined;
}
