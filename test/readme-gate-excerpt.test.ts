/**
 * The README shows a pinline/gate check run; this test produces it (the simulator with the
 * example data) and holds the README to it, so the excerpt cannot drift from what pinline writes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { gatePullRequest } from "../src/gate/evaluate-pull-request.js";
import { removeCopies, repoRoot } from "./harness/example-repo.js";
import { hoursAfter, type PromotionRepo, startPromotionRepo } from "./harness/promotion-repo.js";

let repo: PromotionRepo | undefined;
afterAll(async () => {
  await repo?.close();
  removeCopies();
});

/** The lines of the README's quoted excerpt that make the title and the table. */
function readmeExcerpt(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  return readme
    .split("\n")
    .filter(
      (line) => line.startsWith("> **") || line.startsWith("> |") || line.startsWith("> ### "),
    )
    .map((line) => line.slice(2));
}

/** A line as Markdown renders it: table cells trimmed (the README is formatted), any short sha. */
function normalise(line: string): string {
  const text = line.replace(/\b[0-9a-f]{7}\b/g, "<sha>");
  if (!text.startsWith("|")) return text;
  return text
    .split("|")
    .map((cell) => cell.trim().replace(/^-+$/, "---"))
    .join("|");
}

it("the README's check run excerpt is what the gate writes for that promotion", async () => {
  const now = new Date("2024-03-16T01:30:00Z");
  repo = await startPromotionRepo({ soakStart: hoursAfter(now, -80) });
  await repo.setPins({ "production-canary": "2.4.1" }, hoursAfter(now, -30));
  await repo.passCompliance("2.4.1");
  const root = repo.checkout();
  const pr = await repo.openPinPr("promote-partial", { "production-partial": "2.4.1" });
  for (const person of ["alice", "erin"] as const) {
    await repo.as(person).rest.pulls.createReview({
      owner: repo.sim.owner,
      repo: repo.sim.repo,
      pull_number: pr.number,
      event: "APPROVE",
    });
  }
  await gatePullRequest({ root, forge: repo.forge, number: pr.number, now });
  const check = repo.sim.state.checkRuns.find((c) => c.headSha === pr.headSha);
  const written = [
    `**${check?.output.title}**`,
    ...(check?.output.summary ?? "")
      .split("\n")
      .filter((l) => l.startsWith("|") || l.startsWith("### ")),
  ];
  expect(readmeExcerpt().map(normalise)).toEqual(written.map(normalise));
});
