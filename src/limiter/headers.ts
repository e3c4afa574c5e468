/**
 * Standard rate-limit response headers, per draft-ietf-httpapi-ratelimit-headers (-08 and later):
 *   RateLimit-Policy: "per-client";q=5;w=30
 *   RateLimit: "per-client";r=4;t=30
 * `RateLimit` describes the limit closest to exhaustion; `Retry-After` is whole seconds, at least 1.
 *
 * The gateway decides a route's limits at once; the middlewares (src/middleware/) decide stacked
 * limits one by one and merge them here, so both answer the same headers. Hence the structural
 * types: a middleware's decision has a name and numbers, not a whole Policy.
 */
import type { Decision, Verdict } from "./decision.js";
import type { AlgorithmName, Policy } from "./policy.js";

/** What the headers read of a policy; a named policy of the rate-limit service may not say its algorithm. */
export type AnnouncedPolicy = Pick<Policy, "name" | "shadow"> & { readonly algorithm?: AlgorithmName };

/** What the headers read of a decision. */
export type AnnouncedDecision = Pick<Decision, "allowed" | "remaining" | "resetAt" | "retryAfterMs"> & { readonly policy: AnnouncedPolicy };

/**
 * Whether a policy is announced in the headers: shadow limits are not enforced, so clients are
 * not told of them, and a concurrency limit has no quota per window to state.
 */
export function isAnnounced(policy: Pick<AnnouncedPolicy, "shadow" | "algorithm">): boolean {
  return policy.shadow !== true && policy.algorithm !== "concurrency";
}

/** The `RateLimit-Policy` value for a set of policies; computed once per route, not per request. */
export function rateLimitPolicyHeader(policies: readonly Policy[]): string {
  return policies.filter(isAnnounced).map((p) => rateLimitPolicyItem(p.name, p.limit, p.windowMs)).join(", ");
}

/** One limit's item of `RateLimit-Policy`; `w` is left out when the window is not known (it is optional). */
export function rateLimitPolicyItem(name: string, quota: number, windowMs?: number): string {
  return windowMs === undefined ? `"${name}";q=${quota}` : `"${name}";q=${quota};w=${Math.ceil(windowMs / 1000)}`;
}

/**
 * The decision a client should heed: the enforced denial that lasts longest, else the announced
 * limit with the fewest units left. Shadow limits never bind.
 */
export function bindingDecision<D extends AnnouncedDecision = Decision>(verdict: Omit<Verdict, "decisions"> & { readonly decisions: readonly D[] }): D | undefined {
  let binding: D | undefined;
  for (const d of verdict.decisions) {
    if (d.policy.shadow === true || (verdict.allowed && !isAnnounced(d.policy))) continue;
    if (binding === undefined) binding = d;
    else if (!verdict.allowed) {
      if (!d.allowed && (binding.allowed || (d.retryAfterMs ?? 0) > (binding.retryAfterMs ?? 0))) binding = d;
    } else if (d.remaining < binding.remaining || (d.remaining === binding.remaining && d.resetAt > binding.resetAt)) {
      binding = d;
    }
  }
  return binding;
}

/** The `RateLimit` value for one decision. */
export function rateLimitHeader(decision: Pick<AnnouncedDecision, "policy" | "remaining" | "resetAt">, now: number): string {
  return `"${decision.policy.name}";r=${decision.remaining};t=${secondsUntil(decision.resetAt, now)}`;
}

/** The legacy `X-RateLimit-*` headers some clients still read; Reset is in seconds from now. */
export function legacyRateLimitHeaders(decision: Decision, now: number): Record<string, string> {
  return {
    "x-ratelimit-limit": String(decision.limit),
    "x-ratelimit-remaining": String(decision.remaining),
    "x-ratelimit-reset": String(secondsUntil(decision.resetAt, now)),
  };
}

/** `Retry-After` in whole seconds, rounded up, never below 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}
