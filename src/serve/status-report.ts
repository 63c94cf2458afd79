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

/** The longest an update may have taken: 30 days, in seconds (a report past it is refused). */
export const MAX_DURATION_SECONDS = 30 * 24 * 3600;
/** How deep `details` may nest objects and arrays (details itself is level 1). */
export const MAX_DETAILS_DEPTH = 8;
/** Items of an array, and properties of an object, anywhere in the body. */
export const MAX_ITEMS = 100;
/** The largest magnitude of a free-form number in details (what jsonb and float8 both hold). */
export const MAX_NUMBER = 1e15;

/**
 * Text PostgreSQL stores as it came: no NUL (text and jsonb refuse U+0000) and no lone UTF-16
 * surrogate (jsonb refuses "\ud800"). ajv runs patterns with the "u" flag, where a surrogate
 * pair is one code point and a lone surrogate is a code point in D800–DFFF.
 */
export const STORABLE_TEXT = "^[^\\u0000\\uD800-\\uDFFF]*$";

/**
 * An RFC 3339 date-time JavaScript reads the same instant from: seconds 00–59 (ajv-formats
 * accepts a leap second, "23:59:60Z", which Date does not), a year from 1970 to 9999.
 */
const TIMESTAMP_PATTERN =
  "^(19[7-9][0-9]|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$";

const text = (maxLength: number) =>
  ({ type: "string", maxLength, pattern: STORABLE_TEXT }) as const;

/** A free-form JSON value in details, nesting at most `depth` more levels. */
function freeValue(depth: number): Record<string, unknown> {
  const leaves = [
    { type: "string", maxLength: 4096, pattern: STORABLE_TEXT },
    { type: "number", minimum: -MAX_NUMBER, maximum: MAX_NUMBER },
    { type: "boolean" },
    { type: "null" },
  ];
  if (depth <= 0) return { anyOf: leaves };
  const inner = freeValue(depth - 1);
  return {
    anyOf: [
      ...leaves,
      { type: "array", maxItems: MAX_ITEMS, items: inner },
      {
        type: "object",
        maxProperties: MAX_ITEMS,
        propertyNames: text(200),
        additionalProperties: inner,
      },
    ],
  };
}

/** The JSON schema of the body: fastify's ajv checks it before the handler runs. */
export const STATUS_BODY_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["version", "status", "timestamp"],
  properties: {
    version: { type: "string", minLength: 1, maxLength: 100, pattern: STORABLE_TEXT },
    status: { type: "string", enum: [...REPORT_STATUSES] },
    timestamp: { type: "string", format: "date-time", pattern: TIMESTAMP_PATTERN },
    details: {
      type: "object",
      maxProperties: MAX_ITEMS,
      propertyNames: text(200),
      properties: {
        fromVersion: { type: "string", minLength: 1, maxLength: 100, pattern: STORABLE_TEXT },
        durationSeconds: { type: "number", minimum: 0, maximum: MAX_DURATION_SECONDS },
        rolledBack: { type: "boolean" },
        errors: { type: "array", maxItems: MAX_ITEMS, items: text(4096) },
      },
      additionalProperties: freeValue(MAX_DETAILS_DEPTH - 2),
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
