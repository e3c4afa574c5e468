/**
 * GCRA, the generic cell rate algorithm: token-bucket behaviour with one number of state per key,
 * the theoretical arrival time (TAT) of the next request if the client sent at exactly the rate.
 *
 * With emission interval T = window / limit and capacity C = burst × T, a request of `cost` units
 * is admitted when max(TAT, now) + cost × T − C ≤ now. See docs/algorithms.md.
 *
 * @example gcra.decide(undefined, { name: "api", algorithm: "gcra", limit: 10, windowMs: 1000 }, now, 1)
 */
import { EPSILON, type Algorithm } from "../algorithm.js";

export const gcra: Algorithm<number> = {
  name: "gcra",
  decide(tat, policy, now, cost) {
    const interval = policy.windowMs / policy.limit;
    const burst = policy.burst ?? policy.limit;
    const capacity = burst * interval;
    const base = tat === undefined || tat < now ? now : tat;
    // Clients are told the rate (limit per window); `remaining` says how much may go at once.
    const { limit } = policy;

    if (cost > burst) {
      const decision = { policy, allowed: false, limit, remaining: unitsLeft(capacity, base - now, interval), resetAt: base, retryAfterMs: policy.windowMs, reason: "cost-exceeds-limit" } as const;
      return { decision, state: base, expiresAt: base };
    }
    const nextTat = base + cost * interval;
    const allowAt = nextTat - capacity;
    if (allowAt <= now + EPSILON) {
      const decision = { policy, allowed: true, limit, remaining: unitsLeft(capacity, nextTat - now, interval), resetAt: nextTat };
      return { decision, state: nextTat, expiresAt: nextTat };
    }
    const decision = { policy, allowed: false, limit, remaining: unitsLeft(capacity, base - now, interval), resetAt: base, retryAfterMs: allowAt - now };
    return { decision, state: base, expiresAt: base };
  },
};

function unitsLeft(capacity: number, backlog: number, interval: number): number {
  return Math.max(0, Math.floor((capacity - backlog) / interval + EPSILON));
}
