import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import type { EnvironmentPin } from "../core/schema-types.js";
import { readDocument } from "./read-document.js";

/**
 * Where a command gets its database URL: given outright, or from the environment variable an
 * environment's pin names (`database.urlEnv`), or from DATABASE_URL. The pin never holds the
 * URL itself, and an action never takes it as an input that could be logged.
 */
export function resolveDatabaseUrl(input: {
  root: string;
  url?: string | undefined;
  environment?: string | undefined;
  env: NodeJS.ProcessEnv;
}): { url: string; source: string } {
  if (input.url) return { url: input.url, source: "--database-url" };
  if (input.environment) {
    const file = `environments/${input.environment}.yaml`;
    if (!existsSync(join(input.root, file))) {
      throw new UsageError(`there is no environment ${input.environment} (${file} does not exist)`);
    }
    const record = readDocument(input.root, "environment", file);
    const pin = record.valid ? (record.value as EnvironmentPin) : undefined;
    if (!pin) {
      throw new UsageError(`${file} does not pass validation`, { hint: "run pinline validate" });
    }
    const variable = pin.database?.urlEnv;
    if (!variable) {
      throw new UsageError(`${file} names no database (database.urlEnv)`, {
        hint: "add database: { urlEnv: <NAME OF THE SECRET> } to the pin",
      });
    }
    const url = input.env[variable];
    if (!url) {
      throw new UsageError(
        `${input.environment}'s database URL comes from ${variable}, which is not set`,
        {
          hint: `set ${variable} from its secret`,
        },
      );
    }
    return { url, source: `${variable} (environments/${input.environment}.yaml)` };
  }
  const url = input.env.DATABASE_URL;
  if (url) return { url, source: "DATABASE_URL" };
  throw new UsageError(
    "no database: pass --database-url, --environment <name>, or set DATABASE_URL",
  );
}

/** A URL fit for logs: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}
