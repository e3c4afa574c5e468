/**
 * The framework-neutral half of Sluice's Fastify and Express middlewares: from an application's
 * request to a decision of the rate-limit service, and from the decision to what the response
 * carries. The adapters (fastify.ts, express.ts) only read the request and write the outcome.
 *
 * What a limited route answers (the same as Sluice's own gateway, docs/algorithms.md):
 * - admitted: `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers), then
 *   the route runs;
 * - denied: 429 `application/problem+json` (code SLUICE_ERR_RATE_LIMITED) with the same headers
 *   and `Retry-After`;
 * - the service did not answer and the client's failure policy is `closed`: 503
 *   (SLUICE_ERR_LIMITER_UNAVAILABLE) with `Retry-After`; `open` lets the route run, without
 *   RateLimit headers, since nothing was counted.
 *
 * The policy header of an inline limit is known when the middleware is made and formatted once;
 * a named policy's quota lives in Sluice's config, so its header is read off each answer (its
 * window is not in the answer, and `w` is optional in the header).
 *
 * Stacked limits (two middlewares on one route) answer what the gateway answers for a route's
 * several limits, with the gateway's own functions (limiter/headers.ts): `RateLimit-Policy` lists
 * every limit decided so far, `RateLimit` names the binding one (the longest denial, else the
 * fewest units left). What each response has announced is kept beside it in a WeakMap, so it
 * goes with the response.
 */
import type { Duration, InlineLimitFields, InlineLimitRequest, LimitRequest, LimitResult, RateLimitResult, Without } from "../client/results.js";
import type { RateLimitClient } from "../client/rateLimitClient.js";
import { parseDuration } from "../config/duration.js";
import { bindingDecision, rateLimitHeader, rateLimitPolicyItem, type AnnouncedDecision } from "../limiter/headers.js";
import { problems } from "../problems/catalogue.js";
import { problemDocument, type ProblemDocument } from "../problems/problemDocument.js";

interface CommonOptions<Request> {
  /** The client the middleware asks; share one per application (it holds the connections). */
  readonly client: RateLimitClient;
  /** Whom the limit counts: an IP address, a user id, an API key's id. `undefined` leaves the request unlimited. */
  readonly identifier: (request: Request) => string | undefined;
  /** Units each request takes (default 1), or a function of the request. */
  readonly cost?: number | ((request: Request) => number);
}

/** A limit stated in the application: `limit` requests per `duration`. */
export interface InlineLimitOptions<Request> extends CommonOptions<Request> {
  readonly limit: number;
  readonly duration: Duration;
  readonly algorithm?: InlineLimitRequest["algorithm"];
  /** gcra only: requests that may arrive at once (default `limit`). */
  readonly burst?: number;
  /** token-bucket only: tokens the bucket holds (default `limit`). */
  readonly capacity?: number;
  /** Keeps this limit's counters apart from other limits on the same identifiers, and names it in the headers (default "default"). */
  readonly namespace?: string;
  /** A limit is stated here or named, not both. */
  readonly policy?: never;
}

/** A limit the operator configured in Sluice under a name (docs/ratelimit-service.md); its numbers are the operator's. */
export interface PolicyLimitOptions<Request> extends CommonOptions<Request>, Without<InlineLimitFields> {
  readonly policy: string;
}

export type RateLimitMiddlewareOptions<Request> = InlineLimitOptions<Request> | PolicyLimitOptions<Request>;

/** What the response gets: headers always, and a problem to answer with when the request may not go on. */
export interface RateLimitOutcome {
  /** To set on the response, replacing what an earlier limit on the same response set (they include it). */
  readonly headers: Readonly<Record<string, string>>;
  /** When set, answer with this problem (its `status`) instead of running the route. */
  readonly problem?: ProblemDocument;
  /** This limit's decision, for handlers that want it (e.g. to log `remaining`). */
  readonly result: RateLimitResult;
}

/**
 * Builds the function both adapters call per request: it asks the service and says what to
 * answer, or resolves undefined when the request is not limited (no identifier). `response` is
 * the object the limits of one response are merged on (the node response, whatever the framework).
 */
export function rateLimitOutcome<Request>(options: RateLimitMiddlewareOptions<Request>): (request: Request, response: object) => Promise<RateLimitOutcome | undefined> {
  const { client, identifier } = options;
  const costOf = typeof options.cost === "function" ? options.cost : () => options.cost as number | undefined;
  const describe = options.policy !== undefined ? namedPolicy(options.policy) : inlineLimit(options);
  return async function rateLimitOutcome(request, response) {
    const id = identifier(request);
    if (id === undefined) return undefined;
    const result = await client.limit(describe.request(id, costOf(request)));
    // A policy rule without a limit: nothing was counted, nothing to announce.
    if ("unlimited" in result) return { headers: {}, result };
    return outcome(result, describe.name, describe.policyItem ?? rateLimitPolicyItem(describe.name, result.limit), response, Date.now());
  };
}

interface LimitDescription {
  readonly name: string;
  /** Formatted once when the quota is known up front (inline limits). */
  readonly policyItem: string | undefined;
  request(identifier: string, cost: number | undefined): LimitRequest;
}

function inlineLimit(options: InlineLimitOptions<never>): LimitDescription {
  const { limit, duration, algorithm, burst, capacity, namespace } = options;
  const windowMs = typeof duration === "number" ? duration : parseDuration(duration);
  const name = namespace ?? "default";
  const base: Omit<InlineLimitRequest, "identifier"> = {
    limit, duration,
    ...(algorithm !== undefined && { algorithm }), ...(burst !== undefined && { burst }), ...(capacity !== undefined && { capacity }), ...(namespace !== undefined && { namespace }),
  };
  return {
    name,
    policyItem: rateLimitPolicyItem(name, limit, windowMs),
    request: (identifier, cost) => ({ ...base, identifier, ...(cost !== undefined && { cost }) }),
  };
}

function namedPolicy(policy: string): LimitDescription {
  return {
    name: policy,
    policyItem: undefined,
    request: (identifier, cost) => ({ policy, identifier, ...(cost !== undefined && { cost }) }),
  };
}

/** What one response has announced: each limit's `RateLimit-Policy` item and decision, in order. */
interface Announced {
  readonly policyItems: string[];
  readonly decisions: AnnouncedDecision[];
}

const announcedOn = new WeakMap<object, Announced>();

function outcome(result: LimitResult, name: string, policyItem: string, response: object, now: number): RateLimitOutcome {
  const retryAfter = String(result.retryAfter ?? 1);
  if (result.failure !== undefined) {
    if (result.allowed) return { headers: {}, result };
    return {
      headers: { "retry-after": retryAfter },
      problem: problemDocument(problems.limiterUnavailable, `The rate limit could not be checked; retry in ${retryAfter}s.`),
      result,
    };
  }
  let announced = announcedOn.get(response);
  if (announced === undefined) announcedOn.set(response, (announced = { policyItems: [], decisions: [] }));
  announced.policyItems.push(policyItem);
  announced.decisions.push({
    policy: { name }, allowed: result.allowed, remaining: result.remaining, resetAt: result.reset,
    ...(result.retryAfter !== undefined && { retryAfterMs: result.retryAfter * 1000 }),
  });
  const binding = bindingDecision({ allowed: result.allowed, now, decisions: announced.decisions })!;
  const headers: Record<string, string> = {
    "ratelimit-policy": announced.policyItems.join(", "),
    "ratelimit": rateLimitHeader(binding, now),
  };
  if (result.allowed) return { headers, result };
  headers["retry-after"] = retryAfter;
  return { headers, problem: problemDocument(problems.rateLimited, `Limit "${name}" is exhausted; retry in ${retryAfter}s.`), result };
}
