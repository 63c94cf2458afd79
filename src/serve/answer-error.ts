/**
 * Every error a request meets becomes an ApiError: ours as they are, fastify's (body parsing,
 * size, schema validation) translated into a sentence about the request and what to change.
 */
import { ApiError } from "./api-error.js";
import {
  MAX_DETAILS_DEPTH,
  MAX_DURATION_SECONDS,
  MAX_ITEMS,
  STORABLE_TEXT,
} from "./status-report.js";

interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: ValidationIssue[];
  validationContext?: string;
}

const STATUS_HINT =
  'send {"version": "2.4.1", "status": "completed" | "failed" | "in-progress", "timestamp": "2024-03-15T10:00:00Z", "details": {}}';

/** "body.details.durationSeconds must be a number", from an ajv issue. */
export function describeValidation(issue: ValidationIssue, context = "body"): string {
  const where = `${context}${issue.instancePath.replaceAll("/", ".")}`;
  const params = issue.params;
  switch (issue.keyword) {
    case "required":
      return `${where} lacks the field "${String(params.missingProperty)}"`;
    case "additionalProperties":
      return `${where} has an unknown field "${String(params.additionalProperty)}"`;
    case "enum":
      return `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "type":
      return `${where} must be ${params.type === "array" || params.type === "object" ? "an" : "a"} ${String(params.type)}`;
    case "pattern":
      if (params.pattern === STORABLE_TEXT) {
        return `${where} contains a NUL character or a lone UTF-16 surrogate, which cannot be stored`;
      }
      return `${where} must be an ISO 8601 date-time with a timezone, seconds 00 to 59 (no leap second) and a year from 1970 to 9999, such as "2024-03-15T10:00:00Z"`;
    case "maximum":
    case "minimum":
      return where.endsWith(".durationSeconds")
        ? `${where} must be from 0 to ${MAX_DURATION_SECONDS} (30 days)`
        : `${where} ${issue.message ?? "is out of range"}`;
    case "maxItems":
    case "maxProperties":
      return `${where} has more than ${MAX_ITEMS} ${issue.keyword === "maxItems" ? "items" : "properties"}`;
    case "anyOf":
      return `${where} nests deeper than ${MAX_DETAILS_DEPTH} levels, or is not a JSON value that can be stored`;
    case "format":
      return params.format === "date-time"
        ? `${where} must be an ISO 8601 date-time with a timezone, such as "2024-03-15T10:00:00Z"`
        : `${where} must be a ${String(params.format)}`;
    default:
      return `${where} ${issue.message ?? "is not valid"}`;
  }
}

/**
 * The issue to report: a bound or a pattern over the type errors of the alternatives a free-form
 * value tried (each of which ajv lists before the anyOf that sums them up).
 */
function mostTelling(issues: readonly ValidationIssue[]): ValidationIssue {
  const bounds = ["pattern", "maximum", "minimum", "maxItems", "maxProperties", "maxLength"];
  return (
    issues.find((issue) => bounds.includes(issue.keyword)) ??
    issues.findLast((issue) => issue.keyword === "anyOf") ??
    (issues[0] as ValidationIssue)
  );
}

export function toApiError(error: unknown, bodyLimit: number): ApiError {
  if (error instanceof ApiError) return error;
  const e = (error ?? {}) as FastifyLikeError;
  if (e.validation && e.validation.length > 0) {
    return new ApiError(
      400,
      "invalid_body",
      describeValidation(mostTelling(e.validation), e.validationContext),
      { hint: STATUS_HINT },
    );
  }
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError(413, "body_too_large", `the body is larger than ${bodyLimit} bytes`, {
        hint: "a status report is a few hundred bytes: trim details (its errors list above all)",
      });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError(415, "unsupported_media_type", "the body must be JSON", {
        hint: "send Content-Type: application/json",
      });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new ApiError(400, "malformed_json", "the body is empty", { hint: STATUS_HINT });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new ApiError(400, "malformed_json", "the body is not valid JSON", {
        hint: STATUS_HINT,
      });
  }
  if (error instanceof SyntaxError) {
    return new ApiError(400, "malformed_json", `the body is not valid JSON: ${error.message}`, {
      hint: STATUS_HINT,
    });
  }
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new ApiError(status, "bad_request", e.message ?? "the request cannot be served");
  }
  return new ApiError(500, "internal_error", "the update server failed to answer", {
    hint: "try again; if it persists, the server's operator finds the cause in its log",
    cause: error,
  });
}
