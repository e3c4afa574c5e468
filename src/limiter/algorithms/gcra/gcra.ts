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
      return { decision: costExceedsCapacity(policy, unitsLeft(capacity, base - now, interval, burst), base), state: base, expiresAt: base };
    }
    const nextTat = base + cost * interval;
    const allowAt = nextTat - capacity;
    if (allowAt <= now + TIME_TOLERANCE_MS) {
      const decision = { policy, allowed: true, limit, remaining: unitsLeft(capacity, nextTat - now, interval, burst - cost), resetAt: nextTat };
      return { decision, state: nextTat, expiresAt: nextTat };
    }
    const decision = { policy, allowed: false, limit, remaining: unitsLeft(capacity, base - now, interval, burst), resetAt: base, retryAfterMs: allowAt - now };
    return { decision, state: base, expiresAt: base };
  },
};

/**
 * Whole units the bucket holds, at most `most`: at rates near a unit per microsecond the
 * tolerance alone is worth whole units (a thousand at 10⁹ per second), which must not show as
 * more than the bucket can hold.
 */
function unitsLeft(capacity: number, backlog: number, interval: number, most: number): number {
  return Math.max(0, Math.min(most, Math.floor((capacity - backlog + TIME_TOLERANCE_MS) / interval)));
}
