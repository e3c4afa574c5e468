/**
 * The rate-limit API's part of /openapi.json (and so of /docs), declared as the control plane's
 * operations are (defineRoute.ts) from the same zod schemas that validate the body and type the
 * answer (decisionRequest.ts), so the document cannot drift from what is served.
 */
import { type OperationSpec } from "./defineRoute.js";
import { openApiPaths } from "./routeOpenApi.js";
import type { OpenApiSection } from "./openapi.js";
import { RETRY_AFTER_HEADER } from "./routeOpenApi.js";
import { decisionAnswer, decisionBody } from "../service/decisionRequest.js";
import { RATELIMIT_BODY_LIMIT, RATELIMIT_PREFIX, RESET_PATH } from "../service/ratelimitApi.js";

const TAG = "rate-limit service";

const refusals = {
  400: "A bad body: `invalidParams` names every bad field.",
  401: "No token, or not one Sluice knows (a revoked or expired service token).",
  413: `The body is larger than ${RATELIMIT_BODY_LIMIT / 1024} KiB.`,
  503: { description: "The limiter store cannot be reached and the limit fails closed: apply your own failure policy.", headers: RETRY_AFTER_HEADER },
};

const examples = {
  "ad-hoc": { summary: "100 a minute per user", value: { identifier: "user-42", limit: 100, duration: "60s", algorithm: "gcra", namespace: "emails" } },
  "with a burst": { summary: "10 a minute, up to 30 at once (gcra)", value: { identifier: "user-42", limit: 10, duration: "1m", burst: 30 } },
  "token bucket": { summary: "A bucket of 50 tokens, 10 refilled a minute", value: { identifier: "user-42", limit: 10, duration: "1m", algorithm: "token-bucket", capacity: 50 } },
  "named policy": { summary: "A policy from the config", value: { policy: "emails", identifier: "user-42" } },
  "several at once": {
    summary: "All-or-nothing: 10 a second and 1000 a day",
    value: { checks: [{ identifier: "user-42", limit: 10, duration: "1s" }, { identifier: "user-42", limit: 1000, duration: "1d", algorithm: "fixed-window" }] },
  },
  "read without consuming": { summary: "cost 0 reads the state", value: { identifier: "user-42", limit: 100, duration: "60s", cost: 0 } },
};

const common = { auth: "serviceToken", tags: [TAG], body: decisionBody, bodyLimit: RATELIMIT_BODY_LIMIT } as const;

/** The service's two endpoints, declared as control-plane routes are; the service serves them itself (ratelimitApi.ts). */
export const RATELIMIT_OPERATIONS: readonly OperationSpec[] = [
  {
    ...common, method: "POST", url: RATELIMIT_PREFIX, operationId: "decideRateLimit",
    summary: "Decide: may this caller do this now? (cost 0 reads without consuming)",
    description: "A denial is an answer (200, `allowed: false`), not an error. Several `checks` are admitted only together; a refused call consumes nothing.",
    examples,
    responses: { 200: { description: "The decision.", schema: decisionAnswer } },
    problems: { ...refusals, 403: "The token lacks the `decide` right (`forbidden`), or a check names a namespace or policy outside its scope (`out-of-scope`)." },
  },
  {
    ...common, method: "POST", url: RESET_PATH, operationId: "resetRateLimit",
    summary: "Reset: forget the counters of the limits the body names (admin)",
    description: "The body names limits as a decision's does; `cost` is ignored. Needs SLUICE_ADMIN_TOKEN or a token with the `reset` right.",
    responses: { 204: { description: "Forgotten: the next call starts afresh." } },
    problems: { ...refusals, 403: "The token lacks the `reset` right (`forbidden`), or a check names a namespace or policy outside its scope (`out-of-scope`)." },
  },
];

export const RATELIMIT_OPENAPI: OpenApiSection = {
  tags: [{ name: TAG, description: "Ask whether a caller may do something now, under an ad-hoc limit or a named policy from the config (docs/ratelimit-service.md). `Authorization: Bearer` a service token or SLUICE_ADMIN_TOKEN." }],
  securitySchemes: {
    serviceToken: { type: "http", scheme: "bearer", description: "A service token (admin API: POST /admin/api/service-tokens) or SLUICE_ADMIN_TOKEN." },
  },
  paths: openApiPaths(RATELIMIT_OPERATIONS),
};
