/**
 * Every domain error Sluice throws, by its stable code, and what each becomes at the two edges
 * that report errors: the problem document an HTTP route answers with, and the exit code of the
 * `sluice` command. The error classes stay beside the code that throws them (accounts/, db/,
 * stores/, config/, cli/) and carry their code; this table is the one place their meaning to a
 * caller is decided, so an HTTP route and the CLI cannot disagree about, say, a plan in use.
 *
 * - A refusal (the caller can fix it) maps to a 4xx kind; `field` names the request field it
 *   concerns, and the 400 then lists it in `invalidParams`.
 * - A failure (the world or the data got in the way) maps to `internal` (logged, answered 500
 *   without internals) or to a 503 the caller may retry.
 * - Exit codes: 2 when the request or the setup is wrong and retrying as it is cannot help; 1 when
 *   the world got in the way (systemd restarts on 1, not on 2).
 *
 * @example
 * domainErrorOf(new PlanInUse("gold", 2, 0)) // → { problem: problems.conflict, exitCode: 2 }
 */
import { problems, type ProblemKind } from "./catalogue.js";
import { ProblemError, type InvalidField } from "./problemError.js";

export interface DomainErrorMeaning {
  /** What an HTTP route answers. */
  readonly problem: ProblemKind;
  /** How the `sluice` command exits. */
  readonly exitCode: 1 | 2;
  /** The request field the error is about, named in the 400's `invalidParams`. */
  readonly field?: string;
  /** The public wording, when the error's own message is written for the operator. */
  readonly detail?: string;
  /** Retry-After, for a 503 that passes soon. */
  readonly retryAfterSeconds?: number;
}

export const DOMAIN_ERRORS = {
  // accounts/users.ts
  SLUICE_ERR_EMAIL_TAKEN: { problem: problems.conflict, exitCode: 2, detail: "An account with this email address exists already; sign in instead." },
  SLUICE_ERR_INVALID_EMAIL: { problem: problems.badRequest, exitCode: 2, field: "email" },
  SLUICE_ERR_INVALID_CURSOR: { problem: problems.badRequest, exitCode: 2, field: "cursor" },
  // accounts/passwords.ts
  SLUICE_ERR_PASSWORD_REJECTED: { problem: problems.badRequest, exitCode: 2, field: "password" },
  SLUICE_ERR_PASSWORD_HASHING_BUSY: { problem: problems.busy, exitCode: 1, retryAfterSeconds: 1, detail: "Too many passwords are being checked at once; try again in a second." },
  SLUICE_ERR_MALFORMED_PASSWORD_HASH: { problem: problems.internal, exitCode: 1 },
  // accounts/plans.ts (an invalid plan names its own fields: `issues`)
  SLUICE_ERR_INVALID_PLAN: { problem: problems.badRequest, exitCode: 2 },
  SLUICE_ERR_UNKNOWN_PLAN: { problem: problems.badRequest, exitCode: 2, field: "plan" },
  SLUICE_ERR_PLAN_IN_USE: { problem: problems.conflict, exitCode: 2 },
  // db/
  SLUICE_ERR_DATABASE_IN_USE: { problem: problems.internal, exitCode: 1 },
  SLUICE_ERR_DATA_DIR_NOT_PRIVATE: { problem: problems.internal, exitCode: 2 },
  // stores/store.ts
  SLUICE_ERR_STORE_TIMEOUT: { problem: problems.internal, exitCode: 1 },
  // config/loader.ts
  SLUICE_ERR_CONFIG: { problem: problems.internal, exitCode: 2 },
  // cli/cliErrors.ts: what a command names does not exist, cannot be read, or cannot be done
  SLUICE_ERR_NOT_FOUND: { problem: problems.notFound, exitCode: 2 },
  SLUICE_ERR_INVALID_INPUT: { problem: problems.badRequest, exitCode: 2 },
  SLUICE_ERR_REFUSED: { problem: problems.conflict, exitCode: 2 },
} as const satisfies Record<`SLUICE_ERR_${string}`, DomainErrorMeaning>;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

/** A thrown value that carries one of the codes above. */
export interface DomainError extends Error {
  readonly code: DomainErrorCode;
}

export function isDomainError(error: unknown): error is DomainError {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(DOMAIN_ERRORS, code);
}

/** What `error` means to a caller, or undefined when it is not a domain error (a bug, a raw fault). */
export function domainErrorOf(error: unknown): (DomainErrorMeaning & { readonly code: DomainErrorCode }) | undefined {
  return isDomainError(error) ? { code: error.code, ...DOMAIN_ERRORS[error.code] } : undefined;
}

/**
 * The problem an HTTP route answers a domain error with; undefined for a failure (`internal`),
 * which the error handler logs, and for anything that is not a domain error. `field` renames the
 * field the error is about where a route calls it something else (a new password: `newPassword`).
 */
export function problemOfDomainError(error: unknown, field?: string): ProblemError | undefined {
  const meaning = domainErrorOf(error);
  if (meaning === undefined || meaning.problem === problems.internal) return undefined;
  const message = (error as Error).message;
  const issues = (error as { issues?: unknown }).issues;
  const named = field ?? ("field" in meaning ? meaning.field : undefined);
  if (Array.isArray(issues)) return ProblemError.invalid(issues as InvalidField[], "input");
  if (named !== undefined && meaning.problem === problems.badRequest) return ProblemError.invalid([{ name: named, reason: message }]);
  const detail = "detail" in meaning ? meaning.detail : message;
  const headers = "retryAfterSeconds" in meaning ? { "retry-after": String(meaning.retryAfterSeconds) } : undefined;
  return new ProblemError(meaning.problem, detail, undefined, headers);
}
