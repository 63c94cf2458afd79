/**
 * What the event stream tells an installation when the feed offers it a new update: the
 * specification's in-app UpdateNotification (section 6.1) and the frontend's reload message
 * (section 4.2). Plain data in, plain data out; the clock and the id come from the caller.
 */
import type { UpdateCheckResponse } from "../feed/answer-check.js";

/** The changelog of a release manifest (release.schema.json). */
export interface Changelog {
  breaking?: readonly string[];
  features?: readonly string[];
  fixes?: readonly string[];
  security?: readonly string[];
}

/** Section 6.1's UpdateNotification, as JSON (expiresAt ISO 8601). */
export interface UpdateNotification {
  id: string;
  type: "info" | "warning" | "critical";
  version: string;
  title: string;
  description: string;
  actions: { label: string; action: "install" | "schedule" | "learn-more" | "dismiss" }[];
  expiresAt: string;
}

/** Section 4.2's message to the frontend. */
export interface FrontendUpdateMessage {
  type: "UPDATE_AVAILABLE";
  version: string;
  action: "RELOAD_REQUIRED";
}

/** How long a notification stands: seven days. */
export const NOTIFICATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

const SECTIONS = [
  ["security", "Security"],
  ["breaking", "Breaking"],
  ["features", "Features"],
  ["fixes", "Fixes"],
] as const;

/**
 * The changelog in a paragraph, most urgent first:
 * "Security: CVE-2024-1234 patched. Features: New diagnostic rules; Performance improvements."
 */
export function summariseChanges(changelog: Changelog | undefined): string {
  const parts = SECTIONS.flatMap(([key, label]) => {
    const entries = (changelog?.[key] ?? []).filter((entry) => typeof entry === "string");
    return entries.length > 0 ? [`${label}: ${entries.join("; ")}.`] : [];
  });
  return parts.length > 0 ? parts.join(" ") : "No changelog was published with this release.";
}

/**
 * The notification for an answer that offers an update: critical when the update is mandatory,
 * a warning when the release fixes security issues, information otherwise.
 */
export function buildUpdateNotification(input: {
  answer: UpdateCheckResponse & { version: string };
  changelog: Changelog | undefined;
  id: string;
  now: Date;
}): UpdateNotification {
  const { answer, changelog } = input;
  const security = (changelog?.security ?? []).length > 0;
  return {
    id: input.id,
    type: answer.mandatory ? "critical" : security ? "warning" : "info",
    version: answer.version,
    title: `Update ${answer.version} available`,
    description: summariseChanges(changelog),
    actions: [
      { label: "Install Now", action: "install" },
      { label: "Schedule", action: "schedule" },
      { label: "Learn More", action: "learn-more" },
    ],
    expiresAt: new Date(input.now.getTime() + NOTIFICATION_LIFETIME_MS).toISOString(),
  };
}

export function frontendUpdateMessage(version: string): FrontendUpdateMessage {
  return { type: "UPDATE_AVAILABLE", version, action: "RELOAD_REQUIRED" };
}
