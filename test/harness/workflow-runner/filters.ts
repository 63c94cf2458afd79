/**
 * Pattern matching for `on:` filters (branches, tags, paths, workflows) and for environment
 * deployment-branch rules.
 *
 * GitHub publishes no library for either; both follow the documented syntax:
 * - Filters, "Filter pattern cheat sheet" (workflow syntax page,
 *   https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#filter-pattern-cheat-sheet):
 *   `*` any characters but `/`, `**` any characters, `?` zero or one of the preceding
 *   character, `+` one or more of it, `[]` a class, `\` escapes, a leading `!` negates, and
 *   the last pattern that matches decides.
 * - Deployment branch rules: Ruby's File.fnmatch (deployments-and-environments page): `*`
 *   does not cross `/` ("release/*" is one level), `?` one character, `[]` a class.
 */
import picomatch from "picomatch";

const cache = new Map<string, RegExp>();

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function filterPatternRegex(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      i += 1;
      source += escapeRegex(pattern[i] as string);
    } else if (c === "*") {
      if (pattern[i + 1] === "*" && pattern[i + 2] === "/") {
        // "docs/**/*.md" matches docs/README.md too: `**/` is zero or more directories.
        source += "(?:.*/)?";
        i += 2;
      } else if (pattern[i + 1] === "*") {
        source += ".*";
        i += 1;
      } else {
        source += "[^/]*";
      }
    } else if ((c === "?" || c === "+") && source !== "" && !source.endsWith("*")) {
      source += c;
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end > i + 1) {
        source += pattern.slice(i, end + 1);
        i = end;
      } else {
        source += "\\[";
      }
    } else {
      source += escapeRegex(c);
    }
  }
  const regex = new RegExp(`^${source}$`);
  cache.set(pattern, regex);
  return regex;
}

/** Whether a value passes an ordered list of patterns (`!` negates; the last match decides). */
export function matchesPatterns(value: string, patterns: string[]): boolean {
  let included = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) {
      if (included && filterPatternRegex(pattern.slice(1)).test(value)) included = false;
    } else if (filterPatternRegex(pattern).test(value)) {
      included = true;
    }
  }
  return included;
}

/** `branches`/`branches-ignore` (or tags) for one ref name. */
export function passesRefFilter(
  name: string,
  include: string[] | undefined,
  ignore: string[] | undefined,
): boolean {
  if (include) return matchesPatterns(name, include);
  if (ignore) return !matchesPatterns(name, ignore);
  return true;
}

/**
 * `paths`/`paths-ignore`: paths runs when at least one changed file matches; paths-ignore
 * skips only when every changed file matches. GitHub diffs at most 300 files (not modelled).
 */
export function passesPathFilter(
  files: string[],
  include: string[] | undefined,
  ignore: string[] | undefined,
): boolean {
  if (include) return files.some((file) => matchesPatterns(file, include));
  if (ignore) return !files.every((file) => matchesPatterns(file, ignore));
  return true;
}

/** A deployment branch rule (File.fnmatch, `*` not crossing `/`). */
export function matchesDeploymentRule(name: string, pattern: string): boolean {
  return picomatch.isMatch(name, pattern, { dot: true, nonegate: true, noextglob: true });
}
