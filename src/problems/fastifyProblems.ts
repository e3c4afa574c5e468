/**
 * Makes a Fastify app (the control plane, each demo service) answer its errors as problem
 * documents: a thrown ProblemError as the problem it names (the control plane's validators and
 * handlers throw them), a domain error as DOMAIN_ERRORS says (domainErrors.ts), JSON-schema
 * validation failures as 400 `bad-request` naming the parameter, unknown routes 404, anything
 * unexpected 500 without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { problems, type ProblemKind } from "./catalogue.js";
import { problemOfDomainError } from "./domainErrors.js";
import { PROBLEM_CONTENT_TYPE, problemDocument } from "./problemDocument.js";
import { ProblemError } from "./problemError.js";

/** `extensions` are extra members of the document, e.g. the admin API's `invalidParams`. */
export function replyProblem(reply: FastifyReply, kind: ProblemKind, detail: string, extensions?: Record<string, unknown>): FastifyReply {
  // An explicit serializer keeps Fastify from appending "; charset=utf-8": every problem Sluice
  // sends, from the gateway or from Fastify, carries exactly the same media type.
  return reply
    .code(kind.status)
    .type(PROBLEM_CONTENT_TYPE)
    .header("cache-control", "no-store")
    .serializer(JSON.stringify)
    .send(problemDocument(kind, detail, extensions));
}

/** Answers `problem` with its headers (Retry-After). */
export function replyProblemError(reply: FastifyReply, problem: ProblemError): FastifyReply {
  if (problem.headers !== undefined) reply.headers(problem.headers);
  return replyProblem(reply, problem.kind, problem.detail, problem.extensions && { ...problem.extensions });
}

/** The 404 of a path nothing is registered at. */
export function replyNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return replyProblem(reply, problems.notFound, `Nothing at ${request.method} ${request.url.split("?")[0]}.`);
}

export function useProblemResponses(app: FastifyInstance): void {
  app.setNotFoundHandler(replyNotFound);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = error instanceof ProblemError ? error : problemOfDomainError(error);
    if (problem !== undefined) return replyProblemError(reply, problem);
    if (error.validation !== undefined) return replyProblem(reply, problems.badRequest, validationDetail(error));
    if (error.statusCode === 413) return replyProblem(reply, problems.payloadTooLarge, error.message);
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return replyProblem(reply, { ...problems.badRequest, status: error.statusCode }, error.message);
    }
    request.log.error({ err: error }, "unhandled error");
    return replyProblem(reply, problems.internal, "An unexpected error occurred.");
  });
}

function validationDetail(error: FastifyError): string {
  const first = error.validation?.[0];
  if (first === undefined) return error.message;
  const where = error.validationContext ?? "request";
  const missing = first.params["missingProperty"];
  const field = first.instancePath.replace(/^\//, "") || (typeof missing === "string" ? missing : "");
  return `${where}${field ? ` parameter '${field}'` : ""} ${first.message ?? "is invalid"}.`;
}
