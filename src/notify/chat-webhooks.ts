/**
 * Deploy messages for chat: a Slack Block Kit message and a Microsoft Teams MessageCard (the
 * incoming-webhook format), and the POST that delivers them. Webhook URLs are secrets (anyone
 * holding one can post to the channel), so errors name the host only, never the URL.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { PinlineError, UsageError } from "../core/errors.js";
import { formatInstant } from "../core/gates/format-instant.js";
import type { DeployReport } from "../deploy/deploy-report.js";
import {
  CRITICAL_MARK,
  DEFAULT_PRODUCT,
  deployElapsed,
  deployTitle,
  formatElapsed,
  OUTCOME_ICON,
  OUTCOME_WORD,
  safeUrl,
} from "./deploy-summary.js";

export interface ChatMessageOptions {
  /** Default "CM Diagnostics". */
  product?: string | undefined;
}

/** Slack's limits: header text 150 characters, section text 3000. */
const SLACK_HEADER_LIMIT = 150;
const SLACK_TEXT_LIMIT = 2900;

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** Text safe in Slack mrkdwn: the three characters Slack asks to escape. */
export function slackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `<url|label>`: the URL must carry neither `|` nor `>` (safeUrl has encoded `>`). */
function slackLink(url: string, label: string): string {
  return `<${url.replace(/\|/g, "%7C")}|${slackText(label)}>`;
}

function outcomeText(report: DeployReport): string {
  return `${OUTCOME_ICON[report.outcome]} ${OUTCOME_WORD[report.outcome]}`;
}

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/** A Slack incoming-webhook message: header, the facts as fields, the error, the run link. */
export function slackMessage(report: DeployReport, options: ChatMessageOptions = {}): SlackMessage {
  const title = deployTitle(report, options.product ?? DEFAULT_PRODUCT);
  const field = (name: string, value: string) => ({
    type: "mrkdwn",
    text: `*${name}*\n${slackText(value)}`,
  });
  const blocks: Record<string, unknown>[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: truncate(`${OUTCOME_ICON[report.outcome]} ${title}`, SLACK_HEADER_LIMIT),
        emoji: true,
      },
    },
    {
      type: "section",
      fields: [
        field("Environment", report.environment),
        field("From", report.from),
        field("To", report.to),
        field("Outcome", outcomeText(report)),
        field("Duration", formatElapsed(deployElapsed(report))),
      ],
    },
  ];
  const problem: string[] = [];
  const critical = report.rollback?.critical;
  if (critical) problem.push(`*${CRITICAL_MARK}:* ${slackText(critical)}`);
  if (report.error) problem.push(`*Why:* ${slackText(report.error)}`);
  const revert = report.rollback?.revert;
  if (revert) {
    const url = safeUrl(revert.url);
    const label =
      revert.pullRequest !== undefined ? `pull request #${revert.pullRequest}` : "revert";
    const where = url ? slackLink(url, label) : slackText(revert.commit ?? label);
    problem.push(`*Revert:* ${where}${revert.merged ? " (merged)" : ""}`);
  }
  if (problem.length > 0) {
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: truncate(problem.join("\n"), SLACK_TEXT_LIMIT) },
    });
  }
  const run = safeUrl(report.runUrl);
  const context = [
    `Channel ${slackText(report.channel)}`,
    `started ${formatInstant(report.startedAt)}`,
    ...(run ? [slackLink(run, "View the workflow run")] : []),
  ];
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: context.join(" · ") }] });
  return { text: `${OUTCOME_ICON[report.outcome]} ${title}`, blocks };
}

/** The card's accent: green for success, orange for a rollback, red for a failure. */
export const TEAMS_THEME_COLOR: Record<DeployReport["outcome"], string> = {
  success: "2EB886",
  "rolled-back": "F2A33A",
  failed: "D00000",
};

export interface TeamsMessageCard {
  "@type": "MessageCard";
  "@context": "https://schema.org/extensions";
  summary: string;
  themeColor: string;
  title: string;
  sections: {
    activityTitle: string;
    activitySubtitle: string;
    facts: { name: string; value: string }[];
    text?: string;
    markdown: boolean;
  }[];
  potentialAction: {
    "@type": "OpenUri";
    name: string;
    targets: { os: "default"; uri: string }[];
  }[];
}

/** A Teams incoming-webhook MessageCard (the legacy connector format). */
export function teamsMessage(
  report: DeployReport,
  options: ChatMessageOptions = {},
): TeamsMessageCard {
  const title = deployTitle(report, options.product ?? DEFAULT_PRODUCT);
  const facts = [
    { name: "Environment", value: report.environment },
    { name: "From", value: report.from },
    { name: "To", value: report.to },
    { name: "Outcome", value: outcomeText(report) },
    { name: "Duration", value: formatElapsed(deployElapsed(report)) },
    { name: "Channel", value: report.channel },
  ];
  const revert = report.rollback?.revert;
  if (revert) {
    const what = [
      revert.pullRequest !== undefined ? `pull request #${revert.pullRequest}` : undefined,
      revert.commit ? `commit ${revert.commit.slice(0, 12)}` : undefined,
      revert.merged ? "(merged)" : undefined,
    ].filter((part) => part !== undefined);
    if (what.length > 0) facts.push({ name: "Revert", value: what.join(" ") });
  }
  const critical = report.rollback?.critical;
  const text = [
    ...(critical ? [`${CRITICAL_MARK}: ${critical}`] : []),
    ...(report.error ? [report.error] : []),
  ];
  const actions: TeamsMessageCard["potentialAction"] = [];
  const run = safeUrl(report.runUrl);
  if (run) {
    actions.push({
      "@type": "OpenUri",
      name: "View the workflow run",
      targets: [{ os: "default", uri: run }],
    });
  }
  const revertUrl = safeUrl(revert?.url);
  if (revertUrl) {
    actions.push({
      "@type": "OpenUri",
      name: "View the revert",
      targets: [{ os: "default", uri: revertUrl }],
    });
  }
  return {
    "@type": "MessageCard",
    "@context": "https://schema.org/extensions",
    summary: title,
    themeColor: TEAMS_THEME_COLOR[report.outcome],
    title: `${OUTCOME_ICON[report.outcome]} ${title}`,
    sections: [
      {
        activityTitle: `${report.environment}: ${report.from} → ${report.to}`,
        activitySubtitle: `started ${formatInstant(report.startedAt)}`,
        facts,
        ...(text.length > 0 ? { text: text.join("\n\n") } : {}),
        // Plain text: an error message is shown as written, never read as markup.
        markdown: false,
      },
    ],
    potentialAction: actions,
  };
}

export interface WebhookOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number | undefined;
  /** Tries after the first on a 5xx, 429 or network error; default 2. */
  retries?: number | undefined;
  /** Wait before the first retry, doubled for each next one; default 500 ms. */
  backoffMs?: number | undefined;
}

export interface WebhookResult {
  status: number;
  attempts: number;
}

/** A webhook that could not be delivered. Its message names the host, never the URL. */
export class WebhookError extends PinlineError {
  override name = "WebhookError";
  constructor(
    message: string,
    readonly host: string,
    readonly status: number | undefined,
    readonly attempts: number,
  ) {
    super(message);
  }
}

function isRetryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** What went wrong on the wire, without the URL (undici's causes carry host:port at most). */
function networkProblem(error: unknown, url: URL, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${formatElapsed(timeoutMs)}`;
  }
  const cause = error instanceof Error ? (error.cause ?? error) : error;
  const text =
    cause instanceof Error
      ? ((cause as NodeJS.ErrnoException).code ?? cause.message)
      : String(cause);
  return scrub(text, url);
}

/** Removes the URL (and its path, which holds the secret) from text a server or stack wrote. */
function scrub(text: string, url: URL): string {
  let out = text.split(url.href).join("<webhook URL>");
  if (url.pathname.length > 1) out = out.split(url.pathname).join("/…");
  if (url.search) out = out.split(url.search).join("?…");
  return out;
}

/**
 * POSTs `payload` as JSON to the webhook, retrying server errors, 429 and network errors
 * (`retries` times, backing off from `backoffMs`). Throws a WebhookError naming the host.
 */
export async function postWebhook(
  url: string,
  payload: unknown,
  options: WebhookOptions = {},
): Promise<WebhookResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = Math.max(0, options.retries ?? 2);
  const backoffMs = options.backoffMs ?? 500;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new UsageError("the webhook URL is not a URL", {
      hint: "the variable must hold the full https:// URL the chat service gave",
    });
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") {
    throw new UsageError(`the webhook URL for ${target.host || "?"} is not an http(s) URL`);
  }
  const host = target.host;
  const body = JSON.stringify(payload);
  let problem = "";
  let status: number | undefined;
  for (let attempt = 1; attempt <= retries + 1; attempt += 1) {
    if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2));
    let response: Response;
    try {
      response = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8" },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      status = undefined;
      problem = networkProblem(error, target, timeoutMs);
      continue;
    }
    let text = "";
    try {
      text = await response.text();
    } catch {
      // The status is what counts; a body cut short changes nothing.
    }
    if (response.ok) return { status: response.status, attempts: attempt };
    status = response.status;
    const said = scrub(text.trim().replace(/\s+/g, " "), target).slice(0, 200);
    problem = `HTTP ${response.status}${said ? ` (${said})` : ""}`;
    if (!isRetryable(response.status)) {
      throw new WebhookError(
        `the webhook at ${host} refused the message: ${problem}`,
        host,
        status,
        attempt,
      );
    }
  }
  const attempts = retries + 1;
  throw new WebhookError(
    `the webhook at ${host} failed: ${problem} (${attempts === 1 ? "1 attempt" : `${attempts} attempts`})`,
    host,
    status,
    attempts,
  );
}
