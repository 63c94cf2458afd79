import type { Rollout } from "../core/schema-types.js";
import type { Catalog } from "./catalog.js";
import { error, type Finding, warning } from "./findings.js";
import { ROLLOUT_FILE } from "./layout.js";
import type { Loaded } from "./load-tree.js";

/**
 * Checks the staged rollout: it exists when environments name stages, stage names are unique,
 * every stage but the last has a soak, and every stage has an environment to run in.
 */
export function checkRollout(
  rollout: Loaded<Rollout> | undefined,
  environmentCount: number,
  catalog: Catalog,
): Finding[] {
  if (!rollout) {
    if (environmentCount === 0) return [];
    return [
      error(
        "rollout",
        { file: ROLLOUT_FILE, line: 1, column: 1 },
        "is missing, but environments name their rollout stages",
        'add the ordered stages: stages: [{ name: dev, traffic: 100, soak: "24h" }, ...]',
      ),
    ];
  }
  const { yaml, data } = rollout;
  if (!yaml || !data) return [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  // A pin that failed its own checks still names its stage: no second finding for it here.
  const stagesInUse = new Set(
    [...catalog.environments.values()].map(
      (e) => e.data?.stage ?? (e.yaml?.value as { stage?: unknown } | undefined)?.stage,
    ),
  );
  const allPinsRead = [...catalog.environments.values()].every((e) => e.yaml !== undefined);
  data.stages.forEach((stage, i) => {
    if (seen.has(stage.name)) {
      findings.push(
        error("rollout", yaml.at(["stages", i, "name"]), `stage ${stage.name} is listed twice`),
      );
    }
    seen.add(stage.name);
    const last = i === data.stages.length - 1;
    if (!last && (stage.soak === undefined || stage.soak === null)) {
      findings.push(
        warning(
          "rollout",
          yaml.at(["stages", i]),
          `stage ${stage.name} has no soak, so a version may leave it as soon as it arrives`,
          'give it a soak such as "24h"',
        ),
      );
    }
    if (environmentCount > 0 && allPinsRead && !stagesInUse.has(stage.name)) {
      findings.push(
        warning(
          "rollout",
          yaml.at(["stages", i, "name"]),
          `no environment is in stage ${stage.name}`,
          `set stage: ${stage.name} in an environment's pin, or remove the stage`,
        ),
      );
    }
  });
  return findings;
}
