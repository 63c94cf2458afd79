import { describe, expect, it } from "vitest";
import { buildDeployReport, RUN_URL } from "../../test/harness/deploy-report-fixture.js";
import type { CommentInfo } from "../github/forge.js";
import {
  type CommentForge,
  deployMarker,
  isDeployComment,
  renderDeployComment,
  upsertDeployComment,
} from "./deploy-comment.js";

/** The forge's comment methods over a list, recording the writes. */
function commentStore(initial: CommentInfo[] = []) {
  const comments = initial.map((c) => ({ ...c }));
  const writes: string[] = [];
  let nextId = 1000;
  const forge: CommentForge = {
    async listComments() {
      return comments.map((c) => ({ ...c }));
    },
    async createComment(_number, body) {
      writes.push("create");
      const comment = { id: nextId++, body, author: "pinline-bot" };
      comments.push(comment);
      return { ...comment };
    },
    async updateComment(id, body) {
      writes.push(`update ${id}`);
      const comment = comments.find((c) => c.id === id);
      if (!comment) throw new Error(`no comment ${id}`);
      comment.body = body;
    },
  };
  return { forge, comments, writes };
}

describe("renderDeployComment", () => {
  it("starts with the environment's hidden marker and a headline", () => {
    const body = renderDeployComment(buildDeployReport("success"));
    const [marker, headline] = body.split("\n");
    expect(marker).toBe("<!-- pinline:deploy environment=production-canary -->");
    expect(headline).toBe("### ✅ production-canary: 2.4.0 → 2.4.1 deployed");
    expect(body).toContain(
      "Steps: ✅ verify 1.8s → ✅ backup 41.5s → ✅ migrate 6.3s → ✅ apply 19s → ✅ health 5m → ✅ finish 870ms",
    );
    expect(body).toContain("Health: 10 of 10 rounds pass; last ✅ pass");
    expect(body).toContain(`[workflow run](${RUN_URL})`);
    expect(body).not.toContain("Rollback");
  });

  it("says why a deploy was rolled back, what the rollback did and where the revert is", () => {
    const body = renderDeployComment(buildDeployReport("rolled-back"));
    expect(body).toContain("### ↩️ production-canary: 2.4.0 → 2.4.1 rolled back");
    expect(body).toContain("> health check failed: errorRate 0.041 &gt; max 0.01");
    expect(body).toContain("❌ health 3m30s → ➖ finish");
    expect(body).toContain(
      "Rollback: ✅ apply 15.4s → ✅ migrate 3s → ✅ revert 1.2s · revert [pull request #42](https://github.com/acme/cm-diagnostics-releases/pull/42)",
    );
    expect(body).toContain(
      "last ❌ fail (errorRate 0.041 &gt; max 0.01; responseTimeP95Ms 522 &gt; max 500)",
    );
  });

  it("keeps the marker one token whatever the environment is called", () => {
    expect(deployMarker("qa --> <b>")).toBe("<!-- pinline:deploy environment=qa--b -->");
    expect(isDeployComment(`hello\n${deployMarker("qa")}\nbody`, "qa")).toBe(true);
    expect(isDeployComment(deployMarker("qa-2"), "qa")).toBe(false);
    expect(isDeployComment("<!-- pinline:deploy environment=qa --> quoted", "qa")).toBe(false);
  });
});

describe("upsertDeployComment", () => {
  it("creates the comment once, then updates it in place", async () => {
    const store = commentStore([{ id: 1, body: "LGTM", author: "dana" }]);
    const first = await upsertDeployComment(store.forge, 7, buildDeployReport("success"));
    const second = await upsertDeployComment(store.forge, 7, buildDeployReport("rolled-back"));
    expect(first.created).toBe(true);
    expect(second).toEqual({ id: first.id, created: false });
    expect(store.writes).toEqual(["create", `update ${first.id}`]);
    expect(store.comments).toHaveLength(2);
    expect(store.comments[1]?.body).toContain("rolled back");
  });

  it("writes nothing when the comment already says the same", async () => {
    const report = buildDeployReport("success");
    const store = commentStore([{ id: 5, body: renderDeployComment(report), author: "bot" }]);
    expect(await upsertDeployComment(store.forge, 7, report)).toEqual({ id: 5, created: false });
    expect(store.writes).toEqual([]);
  });

  it("leaves other environments' deploy comments alone", async () => {
    const staging = buildDeployReport("success");
    staging.environment = "staging";
    const store = commentStore([{ id: 3, body: renderDeployComment(staging), author: "bot" }]);
    await upsertDeployComment(store.forge, 7, buildDeployReport("success"));
    expect(store.writes).toEqual(["create"]);
    expect(store.comments[0]?.body).toContain("environment=staging");
  });
});
