import { analyzeBackupCommand, backupVariables } from "../core/analyze-backup-command.js";
import { analyzeDeployCommand, deployVariables } from "../core/analyze-deploy-command.js";
import { entryMayBlock } from "../core/blocked-versions.js";
import { channelReceives, mergeCustomChannels, releaseChannelsFor } from "../core/channels.js";
import type { EnvironmentPin, Policy, ReleaseManifest } from "../core/schema-types.js";
import { tryParseVersion } from "../core/version.js";
import type { Catalog } from "./catalog.js";
import { error, type Finding, warning } from "./findings.js";
import type { NamedDocument } from "./load-tree.js";
import type { PathSegment } from "./parse-yaml.js";

/**
 * The pin's deploy.command, read as the deploy reads it (core/analyze-deploy-command.ts): one
 * error per problem, at the command in the YAML. Placeholders are checked against what a deploy
 * of `manifest` sets; without the manifest (the pin names no release, reported on its own), the
 * components' placeholders are not judged.
 */
export function checkDeployCommand(
  environment: Pick<NamedDocument<EnvironmentPin>, "yaml" | "data">,
  manifest: ReleaseManifest | undefined,
): Finding[] {
  const { yaml, data } = environment;
  const command = data?.deploy?.command;
  if (!yaml || !data || command === undefined) return [];
  const variables = deployVariables(data, manifest, manifest?.version ?? data.version);
  const problems = analyzeDeployCommand(command, variables).problems.filter(
    (problem) => manifest !== undefined || !problem.placeholder?.startsWith("components."),
  );
  if (problems.length === 0) return [];
  const where = yaml.at(["deploy", "command"]);
  return problems.map((problem) => error("deploy-command", where, problem.message, problem.hint));
}

/**
 * The pin's database.backup.command, read as the backup step reads it
 * (core/analyze-backup-command.ts): one error per problem, at the command in the YAML.
 */
export function checkBackupCommand(
  environment: Pick<NamedDocument<EnvironmentPin>, "yaml" | "data">,
): Finding[] {
  const { yaml, data } = environment;
  const command = data?.database?.backup?.command;
  if (!yaml || !data || command === undefined) return [];
  const variables = backupVariables({
    environment: data.name,
    version: data.version,
    from: data.version,
    dir: "backup-dir",
  });
  const where = yaml.at(["database", "backup", "command"]);
  return analyzeBackupCommand(command, variables).problems.map((problem) =>
    error("backup-command", where, problem.message, problem.hint),
  );
}

/**
 * Checks each pin against the tree: its name is its file, its stage is in the rollout, its
 * version is a release its channel receives, a policy governs it, that policy allows its
 * channel, and its deploy.command and database.backup.command run without a shell. A pinned
 * version that a policy now blocks is a warning: the pin already runs it.
 */
export function checkEnvironments(
  environments: readonly NamedDocument<EnvironmentPin>[],
  catalog: Catalog,
  rolloutPresent: boolean,
): Finding[] {
  const findings: Finding[] = [];
  for (const environment of environments) {
    const { yaml, data } = environment;
    if (!yaml || !data) continue;
    const report = (path: PathSegment[], message: string, hint?: string) =>
      findings.push(error("environment", yaml.at(path), message, hint));
    const warn = (path: PathSegment[], message: string, hint?: string) =>
      findings.push(warning("environment", yaml.at(path), message, hint));

    if (data.name !== environment.name) {
      report(
        ["name"],
        `name is ${data.name}, but the file is environments/${environment.name}.yaml`,
        `the file must be named after the environment: environments/${data.name}.yaml`,
      );
    }

    const stage = catalog.stages.get(data.stage);
    if (rolloutPresent && catalog.stages.size > 0 && !stage) {
      report(
        ["stage"],
        `stage ${data.stage} is not a stage of policies/rollout.yaml`,
        `stages are: ${[...catalog.stages.keys()].join(", ")}`,
      );
    }
    if (stage && data.traffic !== undefined && data.traffic !== stage.stage.traffic) {
      warn(
        ["traffic"],
        `traffic is ${data.traffic}%, but stage ${data.stage} serves ${stage.stage.traffic}%`,
        "make them agree, or say why in a comment",
      );
    }

    const version = tryParseVersion(data.version);
    const release = version ? catalog.releases.get(version.canonical) : undefined;
    if (!version) {
      report(["version"], `version ${data.version} is not a valid version`);
    } else if (!release) {
      report(
        ["version"],
        `version ${data.version} names no release in releases/`,
        `pin one of: ${[...catalog.releases.keys()].slice(-5).join(", ")}`,
      );
    }

    findings.push(...checkDeployCommand(environment, release?.folder.data));
    findings.push(...checkBackupCommand(environment));

    const policies = catalog.policiesFor(environment.name);
    if (policies.length === 0 && catalog.allPoliciesRead) {
      warn(
        ["name"],
        `no policy applies to ${environment.name}: promotions to it need no approval and no testing`,
        "add it to a policy's appliesTo",
      );
    }
    const customChannels = mergeCustomChannels(policies.map((p) => p.data as Policy));

    const channel = data.update?.channel;
    if (channel !== undefined) {
      if (version && !channelReceives(channel, version, customChannels)) {
        report(
          ["version"],
          `${data.version} is a ${version.channel} release, which the ${channel} channel this environment follows does not receive`,
          channel.startsWith("custom:")
            ? `add it to customChannels.${channel.slice("custom:".length)}.versions, or pin a version the channel lists`
            : `${channel} receives ${releaseChannelsFor(channel).join(", ")} releases`,
        );
      }
      for (const policy of policies) {
        const allowed = policy.data?.allowedChannels;
        if (allowed && !allowed.includes(channel)) {
          report(
            ["update", "channel"],
            `channel ${channel} is not allowed by ${policy.file} (allowed: ${allowed.join(", ")})`,
          );
        }
      }
    }

    for (const policy of policies) {
      const blocked = policy.data?.blockedVersions?.find(
        (range) => release !== undefined && entryMayBlock(range, release.version.canonical),
      );
      if (blocked !== undefined) {
        warn(
          ["version"],
          `${data.version} is blocked by ${policy.file} (${blocked}), yet this environment runs it`,
          "promote a fixed version or roll back",
        );
      }
      for (const metric of Object.keys(policy.data?.canary ?? {})) {
        const prometheus = data.health?.prometheus as Record<string, unknown> | undefined;
        if (prometheus && prometheus[metric] === undefined) {
          warn(
            ["health", "prometheus"],
            `${policy.file} sets canary.${metric}, but this environment has no ${metric} query`,
            `add health.prometheus.${metric}: '<PromQL returning one number>'`,
          );
        }
      }
    }
  }
  return findings;
}
