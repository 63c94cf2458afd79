/**
 * POST /api/v1/updates/status (specification section 2.3): an installation reports how an update
 * went. The body is checked against STATUS_BODY_SCHEMA by fastify's ajv (no type coercion), then
 * its versions by pinline's own version rules; what is stored is one row of
 * pinline_updates.update_reports.
 */
import { InvalidValueError } from "../core/errors.js";
import { parseVersion } from "../core/version.js";
import { ApiError } from "./api-error.js";

export const REPORT_STATUSES = ["completed", "failed", "in-progress"] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** The body, as the specification writes it; `details` may carry the known fields below. */
export interface StatusBody {
  version: string;
  status: ReportStatus;
  /** ISO 8601 with a timezone. */
  timestamp: string;
  details?: {
    /** The version the installation updated from. */
    fromVersion?: string;
    /** How long the update took, start to finish. */
    durationSeconds?: number;
    /** Whether a failed update was rolled back. */
    rolledBack?: boolean;
    errors?: string[];
    [more: string]: unknown;
  };
}

/** The JSON schema of the body: fastify's ajv checks it before the handler runs. */
export const STATUS_BODY_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["version", "status", "timestamp"],
  properties: {
    version: { type: "string", minLength: 1, maxLength: 100 },
    status: { type: "string", enum: [...REPORT_STATUSES] },
    timestamp: { type: "string", format: "date-time" },
    details: {
      type: "object",
      properties: {
        fromVersion: { type: "string", minLength: 1, maxLength: 100 },
        durationSeconds: { type: "number", minimum: 0 },
        rolledBack: { type: "boolean" },
        errors: { type: "array", items: { type: "string" } },
      },
    },
  },
} as const;

/** One row of pinline_updates.update_reports. */
export interface StatusReport {
  /** sha256 of the license key; null when none was sent. */
  installation: string | null;
  channel: string;
  version: string;
  fromVersion: string | null;
  status: ReportStatus;
  reportedAt: Date;
  durationSeconds: number | null;
  rolledBack: boolean | null;
  details: Record<string, unknown>;
}

function versionOf(text: string, field: string): string {
  try {
    return parseVersion(text).canonical;
  } catch (error) {
    if (!(error instanceof InvalidValueError)) throw error;
    throw new ApiError(400, "invalid_version", `${field}: ${error.message}`, {
      hint: error.hint ?? 'send a release version such as "2.4.1" or "2.5.0-beta.3"',
    });
  }
}

/** The row to store for a body that passed STATUS_BODY_SCHEMA. Throws ApiError 400. */
export function readStatusReport(
  body: StatusBody,
  context: { channel: string; installation: string | null },
): StatusReport {
  const details = body.details ?? {};
  return {
    installation: context.installation,
    channel: context.channel,
    version: versionOf(body.version, "body.version"),
    fromVersion:
      details.fromVersion === undefined
        ? null
        : versionOf(details.fromVersion, "body.details.fromVersion"),
    status: body.status,
    reportedAt: new Date(body.timestamp),
    durationSeconds: details.durationSeconds ?? null,
    rolledBack: details.rolledBack ?? null,
    details,
  };
}
