/**
 * Tells everyone the pin names about a deploy: Slack and Teams through the webhook URLs held
 * by the environment variables the pin names (never URLs in the pin), e-mail through the SMTP
 * server PINLINE_SMTP_URL names, and the sticky comment on the promotion PR. Channels run side
 * by side; one that fails, or cannot be used, never stops the others nor fails the deploy.
 */
import type { EnvironmentPin } from "../core/schema-types.js";
import type { DeployReport } from "../deploy/deploy-report.js";
import { postWebhook, slackMessage, teamsMessage, type WebhookOptions } from "./chat-webhooks.js";
import { type CommentForge, upsertDeployComment } from "./deploy-comment.js";
import { sendUpdateEmail, type UpdateEmailOptions } from "./send-email.js";

export type NotifyChannel = "slack" | "teams" | "email" | "comment";

export interface ChannelResult {
  channel: NotifyChannel;
  /** The message was delivered. */
  ok: boolean;
  /** What happened, in one line (never a secret: hosts, not URLs). */
  detail: string;
  /** Not attempted: its configuration (a variable, the SMTP URL) is missing. Not a failure. */
  skipped?: boolean;
}

export interface NotifyDeployInput {
  report: DeployReport;
  notify: EnvironmentPin["notify"];
  /** Where the webhook variables and PINLINE_SMTP_URL / PINLINE_SMTP_FROM are read. */
  env: NodeJS.ProcessEnv;
  /** A Forge, or anything with its comment methods. */
  forge?: CommentForge | undefined;
  pullRequest?: number | undefined;
  /** Overrides PINLINE_SMTP_URL / PINLINE_SMTP_FROM. */
  smtp?: { url: string; from: string } | undefined;
  log: (message: string) => void;
  webhook?: WebhookOptions | undefined;
  email?: UpdateEmailOptions | undefined;
}

export const DEFAULT_SMTP_FROM = "pinline@localhost";

const CHANNEL_NAME: Record<NotifyChannel, string> = {
  slack: "Slack",
  teams: "Teams",
  email: "E-mail",
  comment: "The PR comment",
};

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Runs one channel; its failure becomes a result, never an exception. */
async function attempt(
  channel: NotifyChannel,
  log: (message: string) => void,
  send: () => Promise<string>,
): Promise<ChannelResult> {
  try {
    const detail = await send();
    log(`${CHANNEL_NAME[channel]}: ${detail}`);
    return { channel, ok: true, detail };
  } catch (error) {
    const detail = messageOf(error).replace(/\s+/g, " ");
    log(`${CHANNEL_NAME[channel]} not notified: ${detail}`);
    return { channel, ok: false, detail };
  }
}

function skip(channel: NotifyChannel, log: (message: string) => void, detail: string) {
  log(detail);
  return Promise.resolve<ChannelResult>({ channel, ok: false, skipped: true, detail });
}

function webhookChannel(
  channel: "slack" | "teams",
  variable: string,
  input: NotifyDeployInput,
): Promise<ChannelResult> {
  const url = input.env[variable]?.trim();
  if (!url) {
    return skip(
      channel,
      input.log,
      `${variable} is not set; ${CHANNEL_NAME[channel]} not notified`,
    );
  }
  const payload = channel === "slack" ? slackMessage(input.report) : teamsMessage(input.report);
  return attempt(channel, input.log, async () => {
    try {
      const result = await postWebhook(url, payload, input.webhook);
      const tries = result.attempts > 1 ? ` after ${result.attempts} attempts` : "";
      return `notified (HTTP ${result.status}${tries})`;
    } catch (error) {
      throw new Error(`${variable}: ${messageOf(error)}`);
    }
  });
}

/**
 * Sends the deploy to every channel the pin configures (and the PR comment when a forge and a
 * PR are given). Resolves with one result per channel, in the order slack, teams, email,
 * comment; it never rejects.
 */
export async function notifyDeploy(input: NotifyDeployInput): Promise<ChannelResult[]> {
  const { report, notify = {}, env, log } = input;
  const jobs: Promise<ChannelResult>[] = [];
  if (notify.slack) jobs.push(webhookChannel("slack", notify.slack, input));
  if (notify.teams) jobs.push(webhookChannel("teams", notify.teams, input));

  const recipients = notify.email ?? [];
  if (recipients.length > 0) {
    const smtpUrl = input.smtp?.url ?? env.PINLINE_SMTP_URL?.trim();
    if (!smtpUrl) {
      jobs.push(
        skip(
          "email",
          log,
          `PINLINE_SMTP_URL is not set; e-mail not sent to ${recipients.join(", ")}`,
        ),
      );
    } else {
      const from = input.smtp?.from ?? (env.PINLINE_SMTP_FROM?.trim() || DEFAULT_SMTP_FROM);
      jobs.push(
        attempt("email", log, async () => {
          const sent = await sendUpdateEmail({
            smtpUrl,
            from,
            to: recipients,
            report,
            options: input.email,
          });
          const rejected = sent.rejected.length > 0 ? `; rejected ${sent.rejected.join(", ")}` : "";
          if (sent.accepted.length === 0) {
            throw new Error(`no recipient accepted the e-mail${rejected}`);
          }
          return `sent to ${sent.accepted.join(", ")}${rejected}`;
        }),
      );
    }
  }

  if (input.forge && input.pullRequest !== undefined) {
    const forge = input.forge;
    const pullRequest = input.pullRequest;
    jobs.push(
      attempt("comment", log, async () => {
        const { id, created } = await upsertDeployComment(forge, pullRequest, report);
        return `${created ? "created" : "updated"} comment ${id} on #${pullRequest}`;
      }),
    );
  }
  return Promise.all(jobs);
}
