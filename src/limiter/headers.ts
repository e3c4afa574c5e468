/**
 * Standard rate-limit response headers, per draft-ietf-httpapi-ratelimit-headers (-08 and later):
 *   RateLimit-Policy: "per-client";q=5;w=30
 *   RateLimit: "per-client";r=4;t=30
 * `RateLimit` describes the limit closest to exhaustion; `Retry-After` is whole seconds, at least 1.
 */
import type { Decision, Verdict } from "./decision.js";
import type { Policy } from "./policy.js";

/**
 * Whether a policy is announced in the headers: shadow limits are not enforced, so clients are
 * not told of them, and a concurrency limit has no quota per window to state.
 */
export function isAnnounced(policy: Policy): boolean {
  return policy.shadow !== true && policy.algorithm !== "concurrency";
}

/** The `RateLimit-Policy` value for a set of policies; computed once per route, not per request. */
export function rateLimitPolicyHeader(policies: readonly Policy[]): string {
  return policies.filter(isAnnounced).map((p) => `"${p.name}";q=${p.limit};w=${Math.ceil(p.windowMs / 1000)}`).join(", ");
}

/**
 * The decision a client should heed: the enforced denial that lasts longest, else the announced
 * limit with the fewest units left. Shadow limits never bind.
 */
export function bindingDecision(verdict: Verdict): Decision | undefined {
  let binding: Decision | undefined;
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
export function rateLimitHeader(decision: Decision, now: number): string {
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
