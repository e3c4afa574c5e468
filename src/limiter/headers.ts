/**
 * Standard rate-limit response headers, per draft-ietf-httpapi-ratelimit-headers (-08 and later):
 *   RateLimit-Policy: "per-client";q=5;w=30
 *   RateLimit: "per-client";r=4;t=30
 * `RateLimit` describes the limit closest to exhaustion; `Retry-After` is whole seconds, at least 1.
 */
import type { Decision, Verdict } from "./decision.js";
import type { Policy } from "./policy.js";

/** The `RateLimit-Policy` value for a set of policies; computed once per route, not per request. */
export function rateLimitPolicyHeader(policies: readonly Policy[]): string {
  return policies.map((p) => `"${p.name}";q=${p.limit};w=${Math.ceil(p.windowMs / 1000)}`).join(", ");
}

/** The decision a client should heed: the denial that lasts longest, else the fewest units left. */
export function bindingDecision(verdict: Verdict): Decision | undefined {
  let binding: Decision | undefined;
  for (const d of verdict.decisions) {
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

/** `Retry-After` in whole seconds, rounded up, never below 1. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}
