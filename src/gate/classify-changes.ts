/**
 * What a pull request changes, as the gate sees it (DESIGN §6):
 * - a **promotion** changes only `version` in existing pins, and nothing else;
 * - a **configuration change** changes any other pin field, adds, renames or deletes a pin, or
 *   touches what the gate itself trusts (policies/, keys/, schemas/, .github/, CODEOWNERS and
 *   the configured paths) — it needs configuration approvals;
 * - anything else (a release, docs) is not gated.
 * A promotion mixed with anything else is refused, so approvals of a promotion never carry
 * another change with them. Pins are read at the judged head commit, never from a branch name.
 */
import picomatch from "picomatch";
import { formatLocation } from "../core/errors.js";
import type { ConfigurationChange } from "../core/gates/configuration.js";
import { configurationFieldsChanged } from "../core/pin-changes.js";
import type { EnvironmentPin } from "../core/schema-types.js";
import type { ChangedFile, Forge, PullRequestInfo } from "../github/forge.js";
import type { Catalog } from "../repo/catalog.js";
import { checkDocument } from "../repo/read-document.js";
import type { PinChange } from "./collect-gate-input.js";

const PIN_FILE = /^environments\/([a-z0-9][a-z0-9-]*)\.yaml$/;

/** What the gate itself trusts: changing it is a configuration change wherever it sits. */
export const CONFIGURATION_PATHS: readonly string[] = [
  "environments/**",
  "policies/**",
  "keys/**",
  "schemas/**",
  ".github/**",
  "CODEOWNERS",
  "docs/CODEOWNERS",
];

export interface ClassifiedChanges {
  /** Pins whose `version` alone changes. */
  promotions: PinChange[];
  /** New pins: configuration changes whose first version is also judged like a promotion. */
  newPins: PinChange[];
  configuration: ConfigurationChange[];
  /** What makes the PR impossible to gate as it is (mixed changes, unreadable pins). */
  problems: string[];
  /** Files that are neither (a release, docs): not gated, but never mixed with a promotion. */
  other: string[];
}

function mixedFile(path: string): string {
  return `${path} is not a promotion: a promotion PR changes only \`version\` in environments/*.yaml, so that approvals of the promotion cannot carry a change of configuration, policy, release or key with them`;
}

async function readHeadPin(
  forge: Forge,
  pull: PullRequestInfo,
  path: string,
  name: string,
): Promise<{ pin: EnvironmentPin } | { problem: string }> {
  const head = await forge.getFileText(path, pull.headSha);
  if (!head) return { problem: `${path} could not be read at ${pull.headSha.slice(0, 7)}` };
  const record = checkDocument("environment", path, { text: head.text });
  const pin = record.value as EnvironmentPin | undefined;
  if (!record.valid || !pin) {
    const first = record.findings[0];
    const where = first ? `${formatLocation(first)}: ${first.message}` : path;
    return { problem: `${where} (run pinline validate)` };
  }
  if (pin.name !== name) {
    return { problem: `${path} names environment "${pin.name}": the name must match the file` };
  }
  return { pin };
}

export async function classifyChanges(input: {
  forge: Forge;
  pull: PullRequestInfo;
  files: readonly ChangedFile[];
  /** The base branch's catalog. */
  catalog: Catalog;
  /** More paths (globs) that count as configuration, such as the gate's own code. */
  configurationPaths?: readonly string[] | undefined;
}): Promise<ClassifiedChanges> {
  const isConfiguration = picomatch([...CONFIGURATION_PATHS, ...(input.configurationPaths ?? [])], {
    dot: true,
  });
  const result: ClassifiedChanges = {
    promotions: [],
    newPins: [],
    configuration: [],
    problems: [],
    other: [],
  };
  /** Pins that change more than `version`: refused as promotions, named with their fields. */
  const mixedPins: string[] = [];
  for (const file of input.files) {
    const match = PIN_FILE.exec(file.path);
    const previous =
      file.previousPath && file.previousPath !== file.path ? file.previousPath : undefined;
    if (!match) {
      if (previous && PIN_FILE.test(previous)) {
        const old = PIN_FILE.exec(previous)?.[1] as string;
        result.configuration.push({
          file: previous,
          description: `renamed to ${file.path}: retires environment ${old}`,
          environments: [old],
        });
      } else if (isConfiguration(file.path) || (previous && isConfiguration(previous))) {
        result.configuration.push({
          file: file.path,
          description: previous ? `renamed from ${previous}` : `${file.status}`,
        });
      } else {
        result.other.push(file.path);
      }
      continue;
    }
    const name = match[1] as string;
    const before = input.catalog.environments.get(name)?.data;
    if (file.status === "removed") {
      result.configuration.push({
        file: file.path,
        description: "deletes the pin: retires the environment",
        environments: [name],
      });
      continue;
    }
    const head = await readHeadPin(input.forge, input.pull, file.path, name);
    if ("problem" in head) {
      result.problems.push(head.problem);
      continue;
    }
    if (previous) {
      const old = PIN_FILE.exec(previous)?.[1];
      result.configuration.push({
        file: file.path,
        description: `renamed from ${previous}`,
        environments: old ? [old, name] : [name],
      });
      result.newPins.push({ environment: name, file: file.path, after: head.pin });
      continue;
    }
    if (!before) {
      result.configuration.push({
        file: file.path,
        description: `adds environment ${name} at ${head.pin.version}`,
        environments: [name],
      });
      result.newPins.push({ environment: name, file: file.path, after: head.pin });
      continue;
    }
    const fields = configurationFieldsChanged(before, head.pin);
    const versionChanged = before.version !== head.pin.version;
    if (fields.length > 0 && versionChanged) {
      mixedPins.push(
        `${file.path} changes ${fields.join(", ")} besides version: a promotion changes only \`version\`; change the pin's configuration in its own PR, where it needs configuration approvals`,
      );
    } else if (fields.length > 0) {
      result.configuration.push({
        file: file.path,
        description: `changes ${fields.join(", ")}`,
        environments: [name],
      });
    } else if (versionChanged) {
      result.promotions.push({ environment: name, file: file.path, before, after: head.pin });
    } else {
      // Comments or formatting only: nothing to promote, but the pin file changes all the same.
      result.configuration.push({
        file: file.path,
        description: "changes only comments or formatting",
        environments: [name],
      });
    }
  }
  if (mixedPins.length > 0 || result.promotions.length > 0) {
    // Anything beside a promotion makes the PR impossible to judge as one.
    const besides = new Set([
      ...result.configuration.map((change) => change.file),
      ...result.newPins.map((pin) => pin.file),
      ...result.other,
    ]);
    result.problems.push(...mixedPins, ...[...besides].map(mixedFile));
    if (result.problems.length > 0) {
      result.configuration = [];
      result.newPins = [];
    }
  }
  return result;
}
