import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildDeployReport, RUN_URL } from "../../test/harness/deploy-report-fixture.js";
import { UsageError } from "../core/errors.js";
import {
  postWebhook,
  slackMessage,
  TEAMS_THEME_COLOR,
  teamsMessage,
  WebhookError,
} from "./chat-webhooks.js";

describe("slackMessage", () => {
  it("is Block Kit: a header, the facts as fields, a context with the run link", () => {
    const message = slackMessage(buildDeployReport("success"));
    expect(message.text).toBe("✅ CM Diagnostics 2.4.1 deployed to production-canary");
    expect(message.blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
    expect(message.blocks[0]).toEqual({
      type: "header",
      text: {
        type: "plain_text",
        text: "✅ CM Diagnostics 2.4.1 deployed to production-canary",
        emoji: true,
      },
    });
    expect(message.blocks[1]).toEqual({
      type: "section",
      fields: [
        { type: "mrkdwn", text: "*Environment*\nproduction-canary" },
        { type: "mrkdwn", text: "*From*\n2.4.0" },
        { type: "mrkdwn", text: "*To*\n2.4.1" },
        { type: "mrkdwn", text: "*Outcome*\n✅ deployed" },
        { type: "mrkdwn", text: "*Duration*\n6m10s" },
      ],
    });
    expect(message.blocks[2]).toEqual({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: `Channel stable · started Sat 2024-03-16 03:00 UTC · <${RUN_URL}|View the workflow run>`,
        },
      ],
    });
  });

  it("adds why and the revert on a rollback, escaped for mrkdwn", () => {
    const report = buildDeployReport("rolled-back");
    report.error = "errorRate > max <@here> & more";
    const message = slackMessage(report);
    expect(message.text).toBe("↩️ CM Diagnostics 2.4.1 rolled back on production-canary");
    expect(message.blocks.map((b) => b.type)).toEqual(["header", "section", "section", "context"]);
    expect(message.blocks[2]).toEqual({
      type: "section",
      text: {
        type: "mrkdwn",
        text: "*Why:* errorRate &gt; max &lt;@here&gt; &amp; more\n*Revert:* <https://github.com/acme/cm-diagnostics-releases/pull/42|pull request #42>",
      },
    });
  });

  it("links nothing that is not http(s)", () => {
    const report = buildDeployReport("success");
    report.runUrl = "javascript:alert(1)";
    const context = JSON.stringify(slackMessage(report).blocks.at(-1));
    expect(context).not.toContain("javascript");
  });
});

describe("teamsMessage", () => {
  it("is a MessageCard coloured by outcome, with facts and a link to the run", () => {
    const card = teamsMessage(buildDeployReport("success"));
    expect(card["@type"]).toBe("MessageCard");
    expect(card["@context"]).toBe("https://schema.org/extensions");
    expect(card.themeColor).toBe(TEAMS_THEME_COLOR.success);
    expect(card.summary).toBe("CM Diagnostics 2.4.1 deployed to production-canary");
    expect(card.sections[0]?.facts).toEqual([
      { name: "Environment", value: "production-canary" },
      { name: "From", value: "2.4.0" },
      { name: "To", value: "2.4.1" },
      { name: "Outcome", value: "✅ deployed" },
      { name: "Duration", value: "6m10s" },
      { name: "Channel", value: "stable" },
    ]);
    expect(card.potentialAction).toEqual([
      {
        "@type": "OpenUri",
        name: "View the workflow run",
        targets: [{ os: "default", uri: RUN_URL }],
      },
    ]);
  });

  it("is green, orange and red for success, rollback and failure", () => {
    expect(TEAMS_THEME_COLOR).toEqual({
      success: "2EB886",
      "rolled-back": "F2A33A",
      failed: "D00000",
    });
    const rolledBack = teamsMessage(buildDeployReport("rolled-back"));
    expect(rolledBack.themeColor).toBe("F2A33A");
    expect(rolledBack.sections[0]?.text).toContain("health check failed");
    expect(rolledBack.sections[0]?.facts.at(-1)).toEqual({
      name: "Revert",
      value: "pull request #42 commit 3f2a9c1d8e7b",
    });
    expect(rolledBack.potentialAction.map((a) => a.name)).toEqual([
      "View the workflow run",
      "View the revert",
    ]);
    expect(teamsMessage(buildDeployReport("failed")).themeColor).toBe("D00000");
  });
});

describe("postWebhook", () => {
  let server: Server;
  let base: string;
  /** What the server answers next, per request; 200 when the list is empty. */
  let script: { status: number; body?: string; delayMs?: number }[];
  let received: { path: string; contentType: string; body: unknown }[];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({
          path: req.url ?? "",
          contentType: req.headers["content-type"] ?? "",
          body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        });
        const next = script.shift() ?? { status: 200, body: "ok" };
        setTimeout(() => {
          res.statusCode = next.status;
          res.end(next.body ?? "");
        }, next.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    script = [];
    received = [];
  });

  const secretUrl = () => `${base}/services/T000/B000/XXXXSECRETXXXX`;

  it("POSTs the payload as JSON", async () => {
    const result = await postWebhook(secretUrl(), { text: "hi" });
    expect(result).toEqual({ status: 200, attempts: 1 });
    expect(received).toEqual([
      {
        path: "/services/T000/B000/XXXXSECRETXXXX",
        contentType: "application/json; charset=utf-8",
        body: { text: "hi" },
      },
    ]);
  });

  it("retries server errors and rate limits, then succeeds", async () => {
    script = [{ status: 503 }, { status: 429, body: "rate_limited" }];
    const result = await postWebhook(secretUrl(), { text: "hi" }, { backoffMs: 10 });
    expect(result).toEqual({ status: 200, attempts: 3 });
    expect(received).toHaveLength(3);
  });

  it("gives up after the retries, naming the host and never the URL", async () => {
    script = [
      { status: 500, body: "boom at /services/T000/B000/XXXXSECRETXXXX" },
      { status: 500 },
      { status: 502, body: "bad gateway" },
    ];
    const error = await postWebhook(secretUrl(), {}, { backoffMs: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebhookError);
    const message = (error as WebhookError).message;
    expect(message).toBe(
      `the webhook at ${new URL(base).host} failed: HTTP 502 (bad gateway) (3 attempts)`,
    );
    expect((error as WebhookError).status).toBe(502);
    expect(received).toHaveLength(3);
  });

  it("does not retry a refusal, and scrubs the secret from what the server said", async () => {
    script = [{ status: 404, body: "no_service for /services/T000/B000/XXXXSECRETXXXX" }];
    const error = await postWebhook(secretUrl(), {}, { backoffMs: 10 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `the webhook at ${new URL(base).host} refused the message: HTTP 404 (no_service for /…)`,
    );
    expect((error as Error).message).not.toContain("SECRET");
    expect(received).toHaveLength(1);
  });

  it("retries a network error and names the host when it persists", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const started = Date.now();
    const error = await postWebhook(`http://127.0.0.1:${port}/hooks/SECRET`, {}).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400); // 500 ms, then 1 s
    expect((error as Error).message).toBe(
      `the webhook at 127.0.0.1:${port} failed: ECONNREFUSED (3 attempts)`,
    );
  });

  it("times out a webhook that does not answer", async () => {
    script = [{ status: 200, delayMs: 2_000 }];
    const error = await postWebhook(secretUrl(), {}, { timeoutMs: 200, retries: 0 }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain("failed: no answer within 200ms (1 attempt)");
  });

  it("refuses what is not an http(s) URL without printing it", async () => {
    await expect(postWebhook("not a url SECRET", {})).rejects.toThrow(UsageError);
    await expect(postWebhook("not a url SECRET", {})).rejects.not.toThrow(/SECRET/);
    await expect(postWebhook("ftp://files.example.com/SECRET", {})).rejects.toThrow(
      "the webhook URL for files.example.com is not an http(s) URL",
    );
  });
});
