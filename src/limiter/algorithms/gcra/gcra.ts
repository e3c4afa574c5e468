/**
 * GCRA, the generic cell rate algorithm: token-bucket behaviour with one number of state per key,
 * the theoretical arrival time (TAT) of the next request if the client sent at exactly the rate.
 *
 * With emission interval T = window / limit and capacity C = burst × T, a request of `cost` units
 * is admitted when max(TAT, now) + cost × T − C ≤ now. See docs/algorithms.md.
 *
 * @example gcra.decide(undefined, { name: "api", algorithm: "gcra", limit: 10, windowMs: 1000 }, now, 1)
 */
import { costExceedsCapacity, type Algorithm } from "../../algorithm.js";
import type { GcraPolicy } from "../../policy.js";

/**
 * Times closer than a microsecond are equal: an epoch-ms double near 1.7e12 carries ~0.25 µs of
 * rounding, which would otherwise cost a unit at an exact boundary.
 */
export const TIME_TOLERANCE_MS = 1e-3;

export const gcra: Algorithm<number, GcraPolicy> = {
  name: "gcra",
  decide(tat, policy, now, cost) {
    const interval = policy.windowMs / policy.limit;
    const burst = policy.burst ?? policy.limit;
    const capacity = burst * interval;
    const base = tat === undefined || tat < now ? now : tat;
    // Clients are told the rate (limit per window); `remaining` says how much may go at once.
    const { limit } = policy;

    if (cost > burst) {
      return { decision: costExceedsCapacity(policy, unitsLeft(capacity, base - now, interval), base), state: base, expiresAt: base };
    }
    const nextTat = base + cost * interval;
    const allowAt = nextTat - capacity;
    if (allowAt <= now + TIME_TOLERANCE_MS) {
      const decision = { policy, allowed: true, limit, remaining: unitsLeft(capacity, nextTat - now, interval), resetAt: nextTat };
      return { decision, state: nextTat, expiresAt: nextTat };
    }
    const decision = { policy, allowed: false, limit, remaining: unitsLeft(capacity, base - now, interval), resetAt: base, retryAfterMs: allowAt - now };
    return { decision, state: base, expiresAt: base };
  },
};

function unitsLeft(capacity: number, backlog: number, interval: number): number {
  return Math.max(0, Math.floor((capacity - backlog + TIME_TOLERANCE_MS) / interval));
}
