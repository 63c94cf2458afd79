/**
 * The update e-mail (SPEC §6.2) after a deploy: rendered with handlebars from the templates in
 * update-email-template.ts (HTML escaped, as handlebars does by default; a plain-text part
 * beside it) and sent through the SMTP server the URL names, with nodemailer.
 */
import Handlebars from "handlebars";
import { createTransport } from "nodemailer";
import { PinlineError, UsageError } from "../core/errors.js";
import type { DeployReport } from "../deploy/deploy-report.js";
import {
  CRITICAL_MARK,
  DEFAULT_PRODUCT,
  deployElapsed,
  deployTitle,
  formatElapsed,
  safeUrl,
} from "./deploy-summary.js";
import { UPDATE_EMAIL_HTML, UPDATE_EMAIL_TEXT } from "./update-email-template.js";

export interface UpdateEmailOptions {
  /** Where to see the update; default the workflow run (report.runUrl). */
  updateUrl?: string | undefined;
  /** Default the release's releaseNotes. */
  releaseNotesUrl?: string | undefined;
  /** Default "CM Diagnostics". */
  product?: string | undefined;
}

export interface UpdateEmail {
  subject: string;
  html: string;
  text: string;
}

interface Templates {
  html: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
}

let templates: Templates | undefined;

/** Compiled once, in an environment of their own (no helper registered elsewhere leaks in). */
function compiled(): Templates {
  if (!templates) {
    const handlebars = Handlebars.create();
    templates = {
      html: handlebars.compile(UPDATE_EMAIL_HTML),
      text: handlebars.compile(UPDATE_EMAIL_TEXT, { noEscape: true }),
    };
  }
  return templates;
}

/** One line: a subject must not carry line breaks (header injection). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ").trim();
}

export function renderUpdateEmail(
  report: DeployReport,
  options: UpdateEmailOptions = {},
): UpdateEmail {
  const subject = oneLine(deployTitle(report, options.product ?? DEFAULT_PRODUCT));
  const changelog = report.release.changelog ?? {};
  const context = {
    subject,
    version: report.to,
    from: report.from,
    environment: report.environment,
    succeeded: report.outcome === "success",
    rolledBack: report.outcome === "rolled-back",
    duration: formatElapsed(deployElapsed(report)),
    error: report.error,
    critical: report.rollback?.critical,
    criticalMark: CRITICAL_MARK,
    mandatory: report.release.mandatory,
    changelog: {
      breaking: changelog.breaking ?? [],
      features: changelog.features ?? [],
      fixes: changelog.fixes ?? [],
      security: changelog.security ?? [],
    },
    updateUrl: safeUrl(options.updateUrl ?? report.runUrl),
    revertUrl: safeUrl(report.rollback?.revert?.url),
    releaseNotesUrl: safeUrl(options.releaseNotesUrl ?? report.release.releaseNotes),
  };
  const { html, text } = compiled();
  return {
    subject,
    // The templates' block lines leave blank runs behind; one blank line is enough.
    html: html(context).replace(/\n(?:[ \t]*\n){2,}/g, "\n\n"),
    text: text(context).replace(/\n{3,}/g, "\n\n"),
  };
}

export interface SendUpdateEmailInput {
  /** smtp://user:password@host:587 or smtps://…:465; query options as nodemailer reads them. */
  smtpUrl: string;
  from: string;
  to: readonly string[];
  report: DeployReport;
  options?: UpdateEmailOptions | undefined;
  /** Connection, greeting and socket timeout; default 30 s (nodemailer waits minutes). */
  timeoutMs?: number | undefined;
}

export interface SentEmail {
  messageId: string;
  accepted: string[];
  rejected: string[];
}

function addresses(list: readonly (string | { address: string })[] | undefined): string[] {
  return (list ?? []).map((entry) => (typeof entry === "string" ? entry : entry.address));
}

/** The SMTP server's host:port, for messages: the URL may hold a password. */
function smtpHost(smtpUrl: string): string {
  try {
    return new URL(smtpUrl).host || "?";
  } catch {
    throw new UsageError("the SMTP URL is not a URL", {
      hint: "use smtp://user:password@host:587 or smtps://user:password@host:465",
    });
  }
}

/** Renders the update e-mail and sends it to every address in one message. */
export async function sendUpdateEmail(input: SendUpdateEmailInput): Promise<SentEmail> {
  if (input.to.length === 0) throw new UsageError("the update e-mail has no recipient");
  const host = smtpHost(input.smtpUrl);
  const email = renderUpdateEmail(input.report, input.options);
  const timeout = input.timeoutMs ?? 30_000;
  const transport = createTransport({
    url: input.smtpUrl,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  try {
    const info = await transport.sendMail({
      from: input.from,
      to: [...input.to],
      subject: email.subject,
      text: email.text,
      html: email.html,
    });
    return {
      messageId: info.messageId,
      accepted: addresses(info.accepted),
      rejected: addresses(info.rejected),
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PinlineError(
      `could not send the update e-mail through ${host}: ${reason.split(input.smtpUrl).join("<SMTP URL>")}`,
    );
  } finally {
    transport.close();
  }
}
