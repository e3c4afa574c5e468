/**
 * A refusal a handler answers with, thrown rather than returned so that it crosses helpers and
 * validators alike: the control plane's error handler (fastifyProblems.ts) turns it into the
 * problem document it names. Not a failure: nothing is logged.
 *
 * @example
 * throw new ProblemError(problems.notFound, `No user with id "${id}".`);
 * throw ProblemError.invalid([{ name: "plan", reason: "no plan named \"gold\"" }]); // 400 naming the field
 */
import type { ProblemKind } from "./catalogue.js";
import { problems } from "./catalogue.js";

/** A field of the request and what is wrong with it, as `invalidParams` lists them (RFC 9457's example extension). */
export interface InvalidField {
  readonly name: string;
  readonly reason: string;
}

export class ProblemError extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    /** Extra members of the document, e.g. `invalidParams`. */
    readonly extensions?: Readonly<Record<string, unknown>>,
    /** Headers the answer carries, e.g. Retry-After. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(detail);
    this.name = "ProblemError";
  }

  /** The 400 naming each bad field (`""`: the body as a whole); `where` says what was read, e.g. "request body". */
  static invalid(fields: readonly InvalidField[], where = "request"): ProblemError {
    const detail = fields.map((p) => `${p.name || "(body)"}: ${p.reason}`).join("; ");
    return new ProblemError(problems.badRequest, `Invalid ${where}: ${detail}.`, { invalidParams: fields });
  }
}
