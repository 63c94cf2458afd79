import semver from "semver";
import { describe, expect, it } from "vitest";
import { InvalidValueError, RefusedError } from "./errors.js";
import { planUpgrade, type UpgradeCandidate } from "./plan-upgrade.js";

function release(version: string, minimumVersion?: string): UpgradeCandidate {
  return { version, minimumVersion };
}

describe("planUpgrade", () => {
  for (const { scenario, from, to, releases, path } of [
    {
      scenario: "goes straight to a release without a minimumVersion",
      from: "2.0.0",
      to: "2.6.0",
      releases: [release("2.4.0"), release("2.6.0")],
      path: ["2.6.0"],
    },
    {
      scenario: "goes straight to a release whose minimumVersion is met",
      from: "2.4.0",
      to: "2.6.0",
      releases: [release("2.5.0"), release("2.6.0", "2.4.0")],
      path: ["2.6.0"],
    },
    {
      scenario: "goes straight there when from is exactly the minimumVersion spelled -stable",
      from: "2.4.0-stable",
      to: "2.6.0",
      releases: [release("2.6.0", "2.4.0")],
      path: ["2.6.0"],
    },
    {
      scenario: "steps through the lowest release that meets the minimumVersion",
      from: "2.0.0",
      to: "2.6.0",
      releases: [
        release("2.3.0"),
        release("2.4.0", "2.0.0"),
        release("2.5.0"),
        release("2.6.0", "2.4.0"),
      ],
      path: ["2.4.0", "2.6.0"],
    },
    {
      scenario: "steps several times when each stop has its own minimumVersion",
      from: "1.0.0",
      to: "3.0.0",
      releases: [
        release("2.0.0", "1.0.0"),
        release("2.5.0", "2.0.0"),
        release("2.6.0", "2.0.0"),
        release("3.0.0", "2.5.0"),
      ],
      path: ["2.0.0", "2.5.0", "3.0.0"],
    },
    {
      scenario: "tries the next release when the lowest one leads nowhere",
      from: "1.0.0",
      to: "3.0.0",
      releases: [release("2.0.0", "1.5.0"), release("2.1.0", "1.0.0"), release("3.0.0", "2.0.0")],
      path: ["2.1.0", "3.0.0"],
    },
    {
      scenario: "reaches a stop that is unreachable directly through an earlier stop",
      from: "1.0.0",
      to: "4.0.0",
      releases: [
        release("2.0.0"),
        release("3.0.0", "2.0.0"),
        release("3.1.0"),
        release("4.0.0", "3.0.0"),
      ],
      path: ["2.0.0", "3.0.0", "4.0.0"],
    },
    {
      scenario: "ignores releases at or below the installed version",
      from: "2.4.0",
      to: "2.6.0",
      releases: [release("2.3.0"), release("2.4.0"), release("2.5.0"), release("2.6.0", "2.5.0")],
      path: ["2.5.0", "2.6.0"],
    },
    {
      scenario: "spells versions as the releases do",
      from: "2.0.0",
      to: "2.6.0",
      releases: [release("2.4.0-stable", "2.0.0"), release("2.6.0", "2.4.0-stable")],
      path: ["2.4.0-stable", "2.6.0"],
    },
    {
      scenario: "does not depend on the order releases are listed in",
      from: "2.0.0",
      to: "2.6.0",
      releases: [release("2.6.0", "2.4.0"), release("2.5.0"), release("2.4.0")],
      path: ["2.4.0", "2.6.0"],
    },
    {
      scenario: "plans onto a prerelease through a stable release",
      from: "2.3.0",
      to: "2.5.0-rc.1",
      releases: [release("2.4.0"), release("2.5.0-beta.3"), release("2.5.0-rc.1", "2.4.0")],
      path: ["2.4.0", "2.5.0-rc.1"],
    },
    {
      scenario: "counts a release listed twice once",
      from: "2.0.0",
      to: "2.6.0",
      releases: [
        release("2.4.0", "2.0.0"),
        release("2.4.0-stable", "2.0.0"),
        release("2.6.0", "2.4.0"),
      ],
      path: ["2.4.0", "2.6.0"],
    },
  ]) {
    it(scenario, () => {
      expect(planUpgrade({ from, to, releases })).toEqual(path);
    });
  }

  for (const { scenario, from, to, releases, message } of [
    {
      scenario: "refuses a target that is not an eligible release",
      from: "2.0.0",
      to: "2.6.0",
      releases: [release("2.5.0")],
      message: "2.6.0 is not an eligible release",
    },
    {
      scenario: "refuses going to the version already installed",
      from: "2.4.1",
      to: "2.4.1-stable",
      releases: [release("2.4.1")],
      message: "2.4.1 → 2.4.1-stable is not an upgrade: it is already there",
    },
    {
      scenario: "refuses a downgrade and points to a rollback",
      from: "2.6.0",
      to: "2.4.0",
      releases: [release("2.4.0")],
      message: "2.6.0 → 2.4.0 is not an upgrade: use a rollback",
    },
    {
      scenario: "refuses when nothing lies between the minimumVersion and the target",
      from: "2.0.0",
      to: "2.6.0",
      releases: [release("2.3.0"), release("2.6.0", "2.4.0")],
      message:
        "no upgrade path from 2.0.0 to 2.6.0: 2.6.0 requires minimumVersion 2.4.0, which 2.0.0 does not meet, and no eligible release at or above 2.4.0 and below 2.6.0 exists to step through",
    },
    {
      scenario: "refuses when every intermediate release is out of reach, naming the cause",
      from: "1.0.0",
      to: "3.0.0",
      releases: [release("2.0.0", "1.5.0"), release("2.1.0", "1.6.0"), release("3.0.0", "2.0.0")],
      message:
        "no upgrade path from 1.0.0 to 3.0.0: 3.0.0 requires minimumVersion 2.0.0, which 1.0.0 does not meet; going back through the lowest intermediate releases ends at 2.0.0, which requires minimumVersion 1.5.0, and no eligible release at or above 1.5.0 and below 2.0.0 exists to step through",
    },
    {
      scenario: "refuses a release whose minimumVersion is above itself",
      from: "2.0.0",
      to: "2.6.0",
      releases: [release("2.6.0", "2.7.0"), release("2.7.0")],
      message:
        "no upgrade path from 2.0.0 to 2.6.0: 2.6.0 requires minimumVersion 2.7.0, which 2.0.0 does not meet (a minimumVersion above the release itself)",
    },
  ]) {
    it(scenario, () => {
      const plan = () => planUpgrade({ from, to, releases });
      expect(plan).toThrow(RefusedError);
      expect(plan).toThrow(message);
    });
  }

  it("explains that only eligible releases are stepped through", () => {
    try {
      planUpgrade({ from: "2.0.0", to: "2.6.0", releases: [release("2.6.0", "2.4.0")] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RefusedError);
      expect((error as RefusedError).hint).toMatch(/on the environment's channel and not blocked/);
    }
  });

  it("refuses a release listed twice with different minimumVersion values", () => {
    const releases = [
      release("2.4.0", "2.0.0"),
      release("2.4.0-stable", "2.1.0"),
      release("2.6.0"),
    ];
    expect(() => planUpgrade({ from: "2.0.0", to: "2.6.0", releases })).toThrow(InvalidValueError);
  });

  it("refuses malformed versions as invalid values, not as refusals", () => {
    expect(() => planUpgrade({ from: "v2.0.0", to: "2.6.0", releases: [] })).toThrow(
      InvalidValueError,
    );
    expect(() =>
      planUpgrade({ from: "2.0.0", to: "2.6.0", releases: [release("2.6.0", "2.4")] }),
    ).toThrow(InvalidValueError);
  });

  it("plans through ten thousand releases that each require the previous one", () => {
    const versions = Array.from({ length: 10_000 }, (_, index) => `1.${index}.0`);
    const releases = versions.map((version, index) =>
      release(version, index === 0 ? undefined : versions[index - 1]),
    );
    const path = planUpgrade({ from: "0.9.0", to: "1.9999.0", releases: releases.reverse() });
    expect(path).toHaveLength(10_000);
    expect(path[0]).toBe("1.0.0");
    expect(path.at(-1)).toBe("1.9999.0");
  });

  it("refuses among ten thousand unreachable releases without searching every combination", () => {
    const releases = Array.from({ length: 10_000 }, (_, index) => release(`1.${index}.0`, "0.5.0"));
    releases.push(release("2.0.0", "1.0.0"));
    expect(() => planUpgrade({ from: "0.1.0", to: "2.0.0", releases })).toThrow(
      "going back through the lowest intermediate releases ends at 1.0.0",
    );
  });
});

/** The rule as DESIGN §1 states it, searched naively: the reference the planner must agree with. */
function planNaively(
  from: string,
  to: string,
  releases: readonly UpgradeCandidate[],
): string[] | undefined {
  const target = releases.find((candidate) => semver.eq(candidate.version, to));
  if (!target) return undefined;
  if (!target.minimumVersion || semver.gte(from, target.minimumVersion)) return [target.version];
  const minimum = target.minimumVersion;
  const stops = releases
    .filter(
      (r) =>
        semver.gt(r.version, from) && semver.lt(r.version, to) && semver.gte(r.version, minimum),
    )
    .sort((a, b) => semver.compare(a.version, b.version));
  for (const stop of stops) {
    const path = planNaively(from, stop.version, releases);
    if (path) return [...path, target.version];
  }
  return undefined;
}

function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("planUpgrade agrees with the rule searched naively", () => {
  it("on a thousand random release histories, with and without a path", () => {
    const random = seededRandom(42);
    const pick = (below: number) => Math.floor(random() * below);
    const outcomes = { direct: 0, stepped: 0, refused: 0 };
    for (let trial = 0; trial < 1000; trial++) {
      const releases = Array.from({ length: 12 }, (_, index) => index)
        .filter(() => random() < 0.7)
        .map((index) =>
          release(
            `1.${index}.0`,
            random() < 0.3 ? undefined : `1.${pick(index + 1)}.${pick(2) * 3}`,
          ),
        );
      const from = `1.${pick(6)}.${pick(2) * 5}`;
      const targets = releases.filter((candidate) => semver.gt(candidate.version, from));
      const to = targets[pick(targets.length)]?.version;
      if (to === undefined) continue;
      const expected = planNaively(from, to, releases);
      if (expected) {
        expect(planUpgrade({ from, to, releases })).toEqual(expected);
        if (expected.length > 1) outcomes.stepped++;
        else outcomes.direct++;
      } else {
        expect(() => planUpgrade({ from, to, releases })).toThrow(RefusedError);
        outcomes.refused++;
      }
    }
    expect(outcomes.direct).toBeGreaterThan(100);
    expect(outcomes.stepped).toBeGreaterThan(100);
    expect(outcomes.refused).toBeGreaterThan(100);
  });
});
