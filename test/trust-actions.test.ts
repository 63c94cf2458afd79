import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { copyExample, edit, removeCopies, replaceOnce, repoRoot } from "./harness/example-repo.js";
import { runAction } from "./harness/runner.js";

/** actions/sign and actions/verify, run as the runner runs them. */
afterAll(removeCopies);

const KEY_1 = readFileSync(
  join(repoRoot, "examples/signing-keys/cm-diagnostics-example-1.private.asc"),
  "utf8",
);

describe("actions/sign", () => {
  it("declares node24, its bundle, and a secret key input", () => {
    const action = parse(readFileSync(join(repoRoot, "actions/sign/action.yml"), "utf8"));
    expect(action.runs).toEqual({ using: "node24", main: "../../dist/sign.js" });
    expect(action.inputs["private-key"].required).toBe(true);
  });

  it("signs, masks every line of the key before anything else, and never prints it", () => {
    const root = copyExample();
    rmSync(join(root, "releases/2.4.0/release.yaml.asc"));
    const run = runAction("sign", {
      workspace: root,
      inputs: { release: "releases/2.4.0", "private-key": KEY_1 },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const keyLines = KEY_1.split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    const masks = run.commands.filter((c) => c.command === "add-mask").map((c) => c.message);
    expect(masks).toEqual(keyLines);
    // Nothing but the mask commands mentions the key's lines.
    const rest = run.stdout.split("\n").filter((l) => !l.startsWith("::add-mask::"));
    for (const line of keyLines.filter((l) => l.length > 20))
      expect(rest.join("\n")).not.toContain(line);
    expect(run.outputs).toMatchObject({
      "signature-file": "releases/2.4.0/release.yaml.asc",
      signatures: "1",
      signer: "EF13F75E36F1146F2C0430C21D01C25370214718",
    });
    expect(readFileSync(join(root, "releases/2.4.0/release.yaml.asc"), "utf8")).toMatch(
      /^-----BEGIN PGP SIGNATURE-----/,
    );
    expect(run.summary).toContain("pinline sign");
  });

  it("fails without touching the signature file when the key is not a private key", () => {
    const root = copyExample();
    const before = readFileSync(join(root, "releases/2.4.0/release.yaml.asc"), "utf8");
    const publicKey = readFileSync(join(root, "keys/cm-diagnostics-example-1.asc"), "utf8");
    const run = runAction("sign", {
      workspace: root,
      inputs: { release: "releases/2.4.0", "private-key": publicKey },
    });
    expect(run.code).toBe(1);
    expect(run.commands.some((c) => c.command === "error")).toBe(true);
    expect(readFileSync(join(root, "releases/2.4.0/release.yaml.asc"), "utf8")).toBe(before);
  });
});

describe("actions/verify", () => {
  it("trusts the example release and reports each signature in the summary", () => {
    const run = runAction("verify", {
      workspace: copyExample(),
      inputs: { release: "releases/2.4.1" },
    });
    expect(run.code).toBe(0);
    expect(run.outputs).toEqual({ ok: "true", "valid-signatures": "2", threshold: "2" });
    expect(run.summary).toContain("## pinline verify 2.4.1: ✅ trusted");
    expect(run.summary).toContain("| ✅ | `EF13F75E36F1146F2C0430C21D01C25370214718` |");
  });

  it("fails the step with an annotation on the manifest when it was changed after signing", () => {
    const root = copyExample();
    edit(root, "releases/2.4.1/release.yaml", replaceOnce("Memory leak", "Memory leek"));
    const run = runAction("verify", { workspace: root, inputs: { release: "releases/2.4.1" } });
    expect(run.code).toBe(1);
    expect(run.outputs.ok).toBe("false");
    expect(run.commands).toContainEqual(
      expect.objectContaining({
        command: "error",
        properties: expect.objectContaining({ file: "releases/2.4.1/release.yaml" }),
        message: expect.stringContaining("does not match the manifest's bytes"),
      }),
    );
    expect(run.summary).toContain("❌ not trusted");
  });
});
