/**
 * How the `sluice` command fails, in one place: each expected failure becomes an exit code and a
 * few lines for stderr — never a stack trace. 2 means the request itself was wrong (bad usage, an
 * invalid, unknown or duplicate value; nothing changed), or the setup is, which trying again does
 * not fix (a data directory Sluice cannot make private; systemd does not restart on 2); 1 means the
 * world got in the way (the database is in use or unreachable). Which domain error is which is
 * decided once, in problems/domainErrors.ts, beside the problem an HTTP route answers it with.
 * The domain errors keep their stable codes, which the message ends with so scripts and tests can
 * match on them rather than on the wording.
 *
 * @example
 * describeFailure(new EmailTaken("ada@example.com"))
 * // → { exitCode: 2, lines: ["an account with the email address ada@example.com already exists (SLUICE_ERR_EMAIL_TAKEN)"] }
 */
import { PasswordRejected } from "../accounts/passwords.js";
import { InvalidPlan } from "../accounts/plans.js";
import { DatabaseInUse } from "../db/embeddedDatabase.js";
import { DataDirNotPrivate } from "../db/privateFiles.js";
import { domainErrorOf, type DomainError } from "../problems/domainErrors.js";

/** The command line itself is wrong; the dispatcher adds the usage of `group` (or all of it). */
export class UsageError extends Error {
  constructor(message: string, readonly group?: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A user, key or plan the command names does not exist. */
export class NotFound extends Error {
  readonly code = "SLUICE_ERR_NOT_FOUND";
  constructor(message: string) {
    super(message);
    this.name = "NotFound";
  }
}

/** A file or text the command was given cannot be read or parsed (the command line itself was fine). */
export class InvalidInput extends Error {
  readonly code = "SLUICE_ERR_INVALID_INPUT";
  constructor(message: string) {
    super(message);
    this.name = "InvalidInput";
  }
}

/** The request is well-formed but cannot be carried out as asked (a revoked key cannot be rotated). */
export class Refused extends Error {
  readonly code = "SLUICE_ERR_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "Refused";
  }
}

export interface Failure {
  readonly exitCode: 1 | 2;
  /** For stderr, each prefixed with "sluice: " by the caller (the first) or indented (the rest). */
  readonly lines: readonly string[];
}

/**
 * The exit code and message of an expected failure; undefined for anything else (a bug). The exit
 * code of a domain error is the one problems/domainErrors.ts gives its code, which the HTTP routes
 * answer from the same entry; the words are the CLI's.
 */
export function describeFailure(error: unknown): Failure | undefined {
  const meaning = domainErrorOf(error);
  if (meaning !== undefined) return { exitCode: meaning.exitCode, lines: linesOf(error as DomainError) };
  const cause = unreachable(error);
  if (cause !== undefined) return { exitCode: 1, lines: [`cannot reach the PostgreSQL server named by DATABASE_URL: ${cause}`] };
  return undefined;
}

/** What stderr says of a domain error: its message and code, or more where the operator needs it. */
function linesOf(error: DomainError): readonly string[] {
  if (error instanceof InvalidPlan) {
    return [`the plan is invalid, nothing was saved (${error.code}):`, ...error.issues.map((issue) => `  ${issue.name || "(plan)"}: ${issue.reason}`)];
  }
  if (error instanceof PasswordRejected) return [`the password was rejected: ${error.message} (${error.code})`];
  if (error instanceof DatabaseInUse) {
    return [
      `the embedded database in ${error.directory} is in use by process ${error.pid} — is \`sluice start\` running on this data dir? (${error.code})`,
      "  The embedded database serves one process at a time. While the gateway runs, manage accounts",
      "  through its admin API, or keep them in PostgreSQL (DATABASE_URL), which the gateway and this",
      "  command can share; otherwise stop the gateway first.",
    ];
  }
  if (error instanceof DataDirNotPrivate) {
    const uid = process.getuid?.();
    return [
      `the embedded database in ${error.directory} cannot be made private: ${error.path}${error.owner === undefined ? "" : ` belongs to uid ${error.owner}`}, and its mode cannot be set (${error.code})`,
      "  Its files hold password hashes and session digests, so Sluice keeps them 0600 and opens no",
      `  database it cannot. Give the directory to the user Sluice runs as: chown -R ${uid ?? "<that user>"} ${error.directory}`,
    ];
  }
  return [`${error.message} (${error.code})`];
}

/** The socket-level reason, when `error` is a failed connection (pg reports Node's errno codes). */
function unreachable(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const codes = ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "EAI_AGAIN"];
  if (typeof code === "string" && codes.includes(code)) return (error as Error).message || code;
  // pg's own connect timeout, and its "database does not exist" (3D000) / bad password (28P01) errors.
  if (error instanceof Error && /timeout exceeded when trying to connect|Connection terminated/i.test(error.message)) return error.message;
  if (code === "3D000" || code === "28P01" || code === "28000") return (error as Error).message;
  return undefined;
}
