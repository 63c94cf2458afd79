import { describe, expect, it } from "vitest";
import { period } from "../../test/harness/gate-input-fixture.js";
import { heldVersions, isRetried, retriedVersions, revertHolding } from "./revert-hold.js";

const t = (day: number) => new Date(Date.UTC(2024, 2, day));

describe("hold after revert", () => {
  const reverted = [
    period("2.4.0", t(1), t(5), "2.4.1"),
    period("2.4.1", t(5), t(9), "2.4.2"),
    period("2.4.2", t(9), t(10), "2.4.1", "c0ffee"),
    period("2.4.1", t(10)),
  ];

  it("holds a version whose latest run in the environment ended in a revert", () => {
    expect(revertHolding(reverted, "2.4.2")).toEqual({
      version: "2.4.2",
      revertedTo: "2.4.1",
      at: t(10),
      commit: "c0ffee",
    });
    expect(revertHolding(reverted, "2.4.2-stable")?.version).toBe("2.4.2");
    expect(heldVersions(reverted).map((r) => r.version)).toEqual(["2.4.2"]);
  });

  it("holds neither a version replaced by a newer one nor the one it runs", () => {
    expect(revertHolding(reverted, "2.4.1")).toBeUndefined();
    expect(revertHolding(reverted, "2.4.0")).toBeUndefined();
    expect(revertHolding(reverted, "2.5.0")).toBeUndefined();
  });

  it("lifts the hold once a retry ran the version and a newer one replaced it", () => {
    const retried = [
      ...reverted.slice(0, 3),
      period("2.4.1", t(10), t(12), "2.4.2"),
      period("2.4.2", t(12), t(20), "2.4.3"),
      period("2.4.3", t(20)),
    ];
    expect(revertHolding(retried, "2.4.2")).toBeUndefined();
  });

  it("holds it again when the retry was reverted too", () => {
    const again = [
      ...reverted.slice(0, 3),
      period("2.4.1", t(10), t(12), "2.4.2"),
      period("2.4.2", t(12), t(13), "2.4.1"),
      period("2.4.1", t(13)),
    ];
    expect(revertHolding(again, "2.4.2")?.at).toEqual(t(13));
  });

  it("reads Pinline-Retry trailers from the last paragraph of a commit message only", () => {
    expect(
      retriedVersions(
        "Promote production-canary to 2.4.2\n\n2.4.1 → 2.4.2\n\nPinline-Retry: 2.4.2\nSigned-off-by: A <a@x>",
      ),
    ).toEqual(["2.4.2"]);
    expect(retriedVersions("Pinline-Retry: 2.4.2")).toEqual([]);
    expect(retriedVersions("Promote\n\nPinline-Retry: 2.4.2\n\nmore text")).toEqual([]);
    expect(retriedVersions("Promote\r\n\r\npinline-retry: 2.4.2, 2.5.0 nonsense")).toEqual([
      "2.4.2",
      "2.5.0",
    ]);
    expect(isRetried(["2.4.2"], "2.4.2-stable")).toBe(true);
    expect(isRetried(undefined, "2.4.2")).toBe(false);
  });
});
