/**
 * Every error a request meets becomes an ApiError: ours as they are, fastify's (body parsing,
 * size, schema validation) translated into a sentence about the request and what to change.
 */
import { ApiError } from "./api-error.js";

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
    case "format":
      return params.format === "date-time"
        ? `${where} must be an ISO 8601 date-time with a timezone, such as "2024-03-15T10:00:00Z"`
        : `${where} must be a ${String(params.format)}`;
    default:
      return `${where} ${issue.message ?? "is not valid"}`;
  }
}

export function toApiError(error: unknown, bodyLimit: number): ApiError {
  if (error instanceof ApiError) return error;
  const e = (error ?? {}) as FastifyLikeError;
  if (e.validation && e.validation.length > 0) {
    return new ApiError(
      400,
      "invalid_body",
      describeValidation(e.validation[0] as ValidationIssue, e.validationContext),
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
