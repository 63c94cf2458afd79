/**
 * The database's refusals, in words a release engineer can act on: who cannot do what, and what
 * to grant or change. Anything the server refuses while the runner connects or sets up its
 * history becomes a RefusedError with a hint; never "internal error" and a stack trace for
 * something the database's configuration decided.
 */
import { RefusedError } from "../core/errors.js";
import { HISTORY_TABLE } from "./history.js";

interface Context {
  /** The database, without credentials: "db.example.com:5432/app". */
  where: string;
  /** The role the run connects as, when known. */
  role?: string;
  /** The schema the history lives in, when it is known. */
  schema?: string;
}

/** A RefusedError for what PostgreSQL (or the connection) refused, or undefined when unknown. */
export function describeRefusal(error: unknown, context: Context): RefusedError | undefined {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const role = context.role ? `role ${context.role}` : "the role in the URL";
  const refused = (text: string, hint: string) =>
    new RefusedError(`${text} (${context.where})`, { hint, cause: error });
  switch (code) {
    case "28P01":
      return refused(
        `the database refused the password of ${role}: ${message}`,
        "check the password in the URL (the variable the pin's database.urlEnv names)",
      );
    case "28000":
      return /encrypt|ssl|no pg_hba/i.test(message)
        ? refused(
            `the database refused the connection of ${role}: ${message}`,
            "if the server requires TLS, add sslmode=require (or verify-full) to the URL; otherwise ask for a pg_hba.conf entry for this host, role and database",
          )
        : refused(`the database refused ${role}: ${message}`, "check the role and its LOGIN right");
    case "3D000":
      return refused(
        `the database does not exist: ${message}`,
        "create it first (createdb <name>), or fix the database name in the URL",
      );
    case "42501":
      return refused(
        `${role} may not create or use ${HISTORY_TABLE}${context.schema ? ` in schema ${context.schema}` : ""}: ${message}`,
        `grant it: GRANT USAGE, CREATE ON SCHEMA ${context.schema ?? "<schema>"} TO ${context.role ?? "<role>"} (PostgreSQL 15 and later no longer let every role create in public), or create the table once as the schema's owner`,
      );
    case "25006":
      return refused(
        `the database accepts only read-only transactions for ${role}: ${message}`,
        "point the URL at the primary (not a standby), or turn default_transaction_read_only off for this role: ALTER ROLE <role> SET default_transaction_read_only = off",
      );
    default:
      if (/does not support SSL/i.test(message)) {
        return refused(
          `the database does not offer TLS, but the URL asks for it: ${message}`,
          "enable ssl on the server, or remove sslmode from the URL for a connection that never leaves a trusted network",
        );
      }
      return undefined;
  }
}
