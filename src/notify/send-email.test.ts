import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { buildDeployReport, RUN_URL } from "../../test/harness/deploy-report-fixture.js";
import { PinlineError, UsageError } from "../core/errors.js";
import { renderUpdateEmail, sendUpdateEmail } from "./send-email.js";

describe("renderUpdateEmail", () => {
  it("renders SPEC §6.2 for a deploy that succeeded", () => {
    const email = renderUpdateEmail(buildDeployReport("success"));
    expect(email.subject).toBe("CM Diagnostics 2.4.1 deployed to production-canary");
    expect(email.html).toContain(
      "<title>CM Diagnostics 2.4.1 deployed to production-canary</title>",
    );
    expect(email.html).toContain("<h2>Update 2.4.1 is now running on production-canary</h2>");
    expect(email.html).toContain("production-canary moved from 2.4.0 to 2.4.1 in 6m10s.");
    expect(email.html).toContain("<h3>What's New:</h3>");
    expect(email.html).toContain("<li>✨ New diagnostic rules</li>");
    expect(email.html).toContain("<li>🐛 Memory leak in diagnostic engine</li>");
    expect(email.html).toContain("<h3>Security Updates:</h3>");
    expect(email.html).toContain("<li>🔒 CVE-2024-1234 patched</li>");
    expect(email.html).toContain("2.4.1 is a mandatory update.");
    expect(email.html).toContain(`<a href="${RUN_URL}" style=`);
    expect(email.html).toContain(
      '<a href="https://updates.cm-diagnostics.example.com/releases/2.4.1">View Release Notes</a>',
    );
    expect(email.html).not.toContain("Why:");
    expect(email.html).not.toContain("View the Revert");
  });

  it("says when the update was rolled back, and why", () => {
    const email = renderUpdateEmail(buildDeployReport("rolled-back"));
    expect(email.subject).toBe("CM Diagnostics 2.4.1 rolled back on production-canary");
    expect(email.html).toContain("<h2>Update 2.4.1 was rolled back on production-canary</h2>");
    expect(email.html).toContain("production-canary runs 2.4.0 again.");
    expect(email.html).toContain("Why: health check failed: errorRate 0.041 &gt; max 0.01");
    expect(email.html).toContain("View the Revert</a>");
    expect(email.text).toContain("Update 2.4.1 was rolled back on production-canary.");
    expect(email.text).toContain("Why: health check failed: errorRate 0.041 > max 0.01");
  });

  it("says when the update failed and could not be undone", () => {
    const email = renderUpdateEmail(buildDeployReport("failed"), { product: "Acme" });
    expect(email.subject).toBe("Acme 2.4.1 failed on production-canary");
    expect(email.html).toContain("<h2>Update 2.4.1 failed on production-canary</h2>");
    expect(email.html).toContain("could not be undone. Check production-canary now.");
  });

  it("escapes changelog entries: a <script> comes out as text", () => {
    const report = buildDeployReport("success");
    report.release.changelog?.features?.push('<script>alert("x")</script>');
    const email = renderUpdateEmail(report);
    expect(email.html).toContain("<li>✨ &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</li>");
    expect(email.html).not.toContain("<script>");
    // The plain-text part is text: nothing to escape there.
    expect(email.text).toContain('✨ <script>alert("x")</script>');
  });

  it("leaves out the sections a release has no entries for, and links that are not http(s)", () => {
    const report = buildDeployReport("success");
    report.release.changelog = { fixes: ["One fix"] };
    const email = renderUpdateEmail(report, {
      updateUrl: "javascript:alert(1)",
      releaseNotesUrl: "https://example.com/notes?a=1&b=2",
    });
    expect(email.html).not.toContain("What's New");
    expect(email.html).not.toContain("Security Updates");
    expect(email.html).toContain("<li>🐛 One fix</li>");
    expect(email.html).not.toContain("javascript");
    expect(email.html).not.toContain("View the Deploy");
    expect(email.html).toContain('href="https://example.com/notes?a&#x3D;1&amp;b&#x3D;2"');
  });

  it("writes a plain-text part with the same content", () => {
    const { text } = renderUpdateEmail(buildDeployReport("success"));
    expect(text).toBe(
      [
        "CM Diagnostics 2.4.1 deployed to production-canary",
        "",
        "Update 2.4.1 is now running on production-canary.",
        "production-canary moved from 2.4.0 to 2.4.1 in 6m10s.",
        "2.4.1 is a mandatory update.",
        "",
        "What's New:",
        "  ✨ New diagnostic rules",
        "  ✨ Performance improvements",
        "",
        "Bug Fixes:",
        "  🐛 Memory leak in diagnostic engine",
        "  🐛 UI rendering issues",
        "",
        "Security Updates:",
        "  🔒 CVE-2024-1234 patched",
        "",
        `The deploy: ${RUN_URL}`,
        "Release notes: https://updates.cm-diagnostics.example.com/releases/2.4.1",
        "",
      ].join("\n"),
    );
  });
});

describe("sendUpdateEmail", () => {
  it("refuses a message without recipients or with a URL that is not one", async () => {
    const report = buildDeployReport("success");
    await expect(
      sendUpdateEmail({ smtpUrl: "smtp://localhost:25", from: "a@b.c", to: [], report }),
    ).rejects.toThrow(UsageError);
    await expect(
      sendUpdateEmail({ smtpUrl: "::secret::", from: "a@b.c", to: ["x@y.z"], report }),
    ).rejects.toThrow("the SMTP URL is not a URL");
  });

  it("names the server, never the password, when it cannot send", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await sendUpdateEmail({
      smtpUrl: `smtp://pinline:hunter2@127.0.0.1:${port}`,
      from: "pinline@localhost",
      to: ["ops@company.com"],
      report: buildDeployReport("success"),
      timeoutMs: 2_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PinlineError);
    expect((error as Error).message).toMatch(
      new RegExp(`^could not send the update e-mail through 127\\.0\\.0\\.1:${port}: `),
    );
    expect((error as Error).message).not.toContain("hunter2");
  });
});
