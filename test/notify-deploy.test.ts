/**
 * notifyDeploy against real receivers: an HTTP server standing in for the Slack and Teams
 * webhooks, an SMTP server (smtp-server) for the e-mail, and the GitHub simulator for the
 * sticky PR comment through OctokitForge. The channels come from the example pin
 * environments/production-canary.yaml, as a deploy reads them.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { EnvironmentPin } from "../src/core/schema-types.js";
import { createOctokit } from "../src/github/create-octokit.js";
import { OctokitForge } from "../src/github/octokit-forge.js";
import { TEAMS_THEME_COLOR } from "../src/notify/chat-webhooks.js";
import { deployMarker } from "../src/notify/deploy-comment.js";
import { notifyDeploy } from "../src/notify/notify-deploy.js";
import { buildDeployReport } from "./harness/deploy-report-fixture.js";
import { copyExample, removeCopies, repoRoot } from "./harness/example-repo.js";
import { type GitHubSimulator, startGitHubSimulator } from "./harness/github-simulator.js";

interface Received {
  path: string;
  body: Record<string, unknown>;
}

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

let hooks: Server;
let hooksUrl: string;
let posts: Received[];
/** Status codes the webhook server answers next, per path prefix ("/slack", "/teams"). */
let answers: Record<string, number[]>;

let smtp: SMTPServer;
let smtpPort: number;
let mails: Mail[];

let sim: GitHubSimulator;
let forge: OctokitForge;
let pullRequest: number;
let clock: Date;

/** The example pin's notify settings: slack/teams variable names and the e-mail list. */
const notify = (
  parse(
    readFileSync(join(repoRoot, "environments/production-canary.yaml"), "utf8"),
  ) as EnvironmentPin
).notify;

beforeAll(async () => {
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      posts.push({ path, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      const prefix = `/${path.split("/")[1]}`;
      res.statusCode = answers[prefix]?.shift() ?? 200;
      res.end(res.statusCode === 200 ? "ok" : "no_service");
    });
  });
  await new Promise<void>((resolve) => hooks.listen(0, "127.0.0.1", resolve));
  hooksUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const { mailFrom, rcptTo } = session.envelope;
        mails.push({
          from: mailFrom ? mailFrom.address : "",
          to: rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;

  sim = await startGitHubSimulator();
  clock = new Date("2024-03-16T02:00:00Z");
  sim.setClock(() => clock);
  const token = sim.addUser("pinline-bot", { permission: "write", type: "Bot" });
  await sim.seed(copyExample());
  const octokit = createOctokit({ token, baseUrl: sim.url });
  await sim.commitFiles("promote/production-canary-2.4.1", {
    "environments/production-canary.yaml": readFileSync(
      join(repoRoot, "environments/production-canary.yaml"),
      "utf8",
    ).replace('version: "2.4.1"', 'version: "2.4.2"'),
  });
  const { data } = await octokit.rest.pulls.create({
    owner: sim.owner,
    repo: sim.repo,
    head: "promote/production-canary-2.4.1",
    base: "main",
    title: "Promote production-canary to 2.4.1",
  });
  pullRequest = data.number;
  forge = new OctokitForge(octokit, { owner: sim.owner, repo: sim.repo });
});

afterAll(async () => {
  hooks?.closeAllConnections();
  await new Promise((resolve) => (hooks ? hooks.close(resolve) : resolve(undefined)));
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await sim?.close();
  removeCopies();
});

beforeEach(() => {
  posts = [];
  answers = {};
  mails = [];
});

function environment(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    SLACK_WEBHOOK_URL: `${hooksUrl}/slack/services/T000/B000/SLACKSECRET`,
    TEAMS_WEBHOOK_URL: `${hooksUrl}/teams/webhookb2/TEAMSSECRET`,
    PINLINE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    PINLINE_SMTP_FROM: "releases@company.com",
    ...overrides,
  };
}

/** Decodes one MIME part's body by its Content-Transfer-Encoding. */
function decodeBody(headers: string, body: string): string {
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  if (encoding === "base64")
    return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      );
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

/** Enough of RFC 5322 and MIME to read what nodemailer sends: headers, the text and HTML parts. */
function readMail(raw: string) {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const header = (name: string) =>
    new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1]?.trim() ?? "";
  const boundary = /boundary="?([^";]+)"?/i.exec(header("content-type"))?.[1];
  const parts: Record<string, string> = {};
  if (boundary) {
    for (const part of raw.slice(split + 4).split(`--${boundary}`)) {
      const at = part.indexOf("\r\n\r\n");
      if (at < 0) continue;
      const partHeaders = part.slice(0, at);
      const type = /content-type:\s*([\w/]+)/i.exec(partHeaders)?.[1]?.toLowerCase();
      if (type) parts[type] = decodeBody(partHeaders, part.slice(at + 4));
    }
  }
  return {
    subject: header("subject"),
    from: header("from"),
    to: header("to"),
    html: parts["text/html"] ?? "",
    text: parts["text/plain"] ?? "",
  };
}

async function deployComments() {
  const all = await forge.listComments(pullRequest);
  return all.filter((c) => c.body.includes(deployMarker("production-canary")));
}

describe("notifyDeploy", () => {
  it("tells Slack, Teams, the e-mail list and the PR about a successful deploy", async () => {
    const log: string[] = [];
    const results = await notifyDeploy({
      report: buildDeployReport("success"),
      notify,
      env: environment(),
      forge,
      pullRequest,
      log: (m) => log.push(m),
    });
    expect(results.map((r) => [r.channel, r.ok])).toEqual([
      ["slack", true],
      ["teams", true],
      ["email", true],
      ["comment", true],
    ]);

    const slack = posts.find((p) => p.path.startsWith("/slack/"));
    expect(slack?.path).toBe("/slack/services/T000/B000/SLACKSECRET");
    const blocks = slack?.body.blocks as { type: string; fields?: { text: string }[] }[];
    expect(blocks.map((b) => b.type)).toEqual(["header", "section", "context"]);
    expect(blocks[1]?.fields?.map((f) => f.text.split("\n")[0])).toEqual([
      "*Environment*",
      "*From*",
      "*To*",
      "*Outcome*",
      "*Duration*",
    ]);
    expect(slack?.body.text).toBe("✅ CM Diagnostics 2.4.1 deployed to production-canary");

    const teams = posts.find((p) => p.path.startsWith("/teams/"))?.body;
    expect(teams?.["@type"]).toBe("MessageCard");
    expect(teams?.themeColor).toBe(TEAMS_THEME_COLOR.success);
    expect((teams?.sections as { facts: unknown[] }[] | undefined)?.[0]?.facts).toContainEqual({
      name: "Environment",
      value: "production-canary",
    });
    expect(teams?.potentialAction).toEqual([
      {
        "@type": "OpenUri",
        name: "View the workflow run",
        targets: [
          {
            os: "default",
            uri: "https://github.com/acme/cm-diagnostics-releases/actions/runs/8312345678",
          },
        ],
      },
    ]);

    expect(mails).toHaveLength(1);
    expect(mails[0]?.from).toBe("releases@company.com");
    expect(mails[0]?.to).toEqual(["ops@company.com"]);
    const mail = readMail(mails[0]?.raw ?? "");
    expect(mail.subject).toBe("CM Diagnostics 2.4.1 deployed to production-canary");
    expect(mail.to).toBe("ops@company.com");
    expect(mail.html).toContain("<li>✨ New diagnostic rules</li>");
    expect(mail.html).toContain("<li>🔒 CVE-2024-1234 patched</li>");
    expect(mail.text).toContain("✨ New diagnostic rules");

    const comments = await deployComments();
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("### ✅ production-canary: 2.4.0 → 2.4.1 deployed");
    expect(comments[0]?.author).toBe("pinline-bot");

    expect(log).toContain("Slack: notified (HTTP 200)");
    expect(log.join("\n")).not.toContain("SECRET");
  });

  it("updates the same PR comment on the next deploy, and retries a webhook after a 500", async () => {
    clock = new Date("2024-03-16T03:30:00Z");
    const report = buildDeployReport("rolled-back");
    report.release.changelog?.features?.push("Rule names with <script>alert(1)</script> render");
    answers["/slack"] = [500];
    const results = await notifyDeploy({
      report,
      notify,
      env: environment(),
      forge,
      pullRequest,
      log: () => {},
    });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.find((r) => r.channel === "slack")?.detail).toBe(
      "notified (HTTP 200 after 2 attempts)",
    );
    expect(results.find((r) => r.channel === "comment")?.detail).toMatch(
      new RegExp(`^updated comment \\d+ on #${pullRequest}$`),
    );
    const slackPosts = posts.filter((p) => p.path.startsWith("/slack/"));
    expect(slackPosts).toHaveLength(2);
    expect(slackPosts[1]?.body).toEqual(slackPosts[0]?.body);
    expect(posts.find((p) => p.path.startsWith("/teams/"))?.body.themeColor).toBe(
      TEAMS_THEME_COLOR["rolled-back"],
    );

    const comments = await deployComments();
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("### ↩️ production-canary: 2.4.0 → 2.4.1 rolled back");
    const stored = sim.state.comments.filter((c) => c.issueNumber === pullRequest);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.updatedAt).not.toBe(stored[0]?.createdAt);

    const mail = readMail(mails[0]?.raw ?? "");
    expect(mail.subject).toBe("CM Diagnostics 2.4.1 rolled back on production-canary");
    expect(mail.html).toContain("Update 2.4.1 was rolled back on production-canary");
    expect(mail.html).toContain("Rule names with &lt;script&gt;alert(1)&lt;/script&gt; render");
    expect(mail.html).not.toContain("<script>");
  });

  it("warns about a missing variable or SMTP server, and a failing channel fails no other", async () => {
    answers["/teams"] = [404];
    const log: string[] = [];
    const results = await notifyDeploy({
      report: buildDeployReport("failed"),
      notify,
      env: environment({ SLACK_WEBHOOK_URL: undefined, PINLINE_SMTP_URL: "" }),
      forge,
      pullRequest,
      log: (m) => log.push(m),
    });
    expect(results).toEqual([
      {
        channel: "slack",
        ok: false,
        skipped: true,
        detail: "SLACK_WEBHOOK_URL is not set; Slack not notified",
      },
      {
        channel: "teams",
        ok: false,
        detail: `TEAMS_WEBHOOK_URL: the webhook at ${new URL(hooksUrl).host} refused the message: HTTP 404 (no_service)`,
      },
      {
        channel: "email",
        ok: false,
        skipped: true,
        detail: "PINLINE_SMTP_URL is not set; e-mail not sent to ops@company.com",
      },
      expect.objectContaining({ channel: "comment", ok: true }),
    ]);
    expect(log).toContain("SLACK_WEBHOOK_URL is not set; Slack not notified");
    expect(log.join("\n")).not.toContain("TEAMSSECRET");
    expect(posts.map((p) => p.path.split("/")[1])).toEqual(["teams"]);
    expect(mails).toHaveLength(0);
    expect((await deployComments())[0]?.body).toContain("### ❌ production-canary");
  });

  it("sends only what the pin configures, and no comment without a PR", async () => {
    const results = await notifyDeploy({
      report: buildDeployReport("success"),
      notify: { email: ["ops@company.com", "release-managers@company.com"] },
      env: environment({ PINLINE_SMTP_FROM: undefined }),
      forge,
      log: () => {},
    });
    expect(results.map((r) => r.channel)).toEqual(["email"]);
    expect(results[0]?.detail).toBe("sent to ops@company.com, release-managers@company.com");
    expect(mails[0]?.from).toBe("pinline@localhost");
    expect(mails[0]?.to).toEqual(["ops@company.com", "release-managers@company.com"]);
    expect(posts).toHaveLength(0);
    expect(
      await notifyDeploy({
        report: buildDeployReport(),
        notify: undefined,
        env: {},
        log: () => {},
      }),
    ).toEqual([]);
  });
});
