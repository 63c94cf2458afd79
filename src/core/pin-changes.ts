/**
 * What a change to an environment pin is (DESIGN §6): a promotion changes only `version`; any
 * other difference — deploy.command, health, database, stage, platform, notify, update,
 * traffic, a field added or removed — is a configuration change, judged by its own rule.
 */
import type { EnvironmentPin } from "./schema-types.js";

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The paths at which two plain YAML values differ ("deploy.command", "notify.email[1]"). */
function differences(before: Json, after: Json, path: string, out: string[]): void {
  if (Object.is(before, after)) return;
  if (Array.isArray(before) && Array.isArray(after)) {
    if (before.length !== after.length) {
      out.push(path);
      return;
    }
    for (const [index, item] of before.entries()) {
      differences(item, after[index], `${path}[${index}]`, out);
    }
    return;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      differences(before[key], after[key], path === "" ? key : `${path}.${key}`, out);
    }
    return;
  }
  out.push(path === "" ? "(the whole pin)" : path);
}

/** Every field of the pin that differs besides `version`, as dotted paths, sorted. */
export function configurationFieldsChanged(
  before: EnvironmentPin,
  after: EnvironmentPin,
): string[] {
  const { version: _before, ...restBefore } = before;
  const { version: _after, ...restAfter } = after;
  const out: string[] = [];
  differences(restBefore, restAfter, "", out);
  return out;
}
