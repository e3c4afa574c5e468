/**
 * Sliding window counter: two counters per key, the current clock-aligned window's and the
 * previous one's. The count "in the last window" is estimated as
 *     previous × (share of the previous window still inside the sliding window) + current,
 * which assumes the previous window's requests were spread evenly. Constant state (three numbers)
 * and close to the sliding log on smooth traffic; approximate on bursty traffic. The worst case
 * is documented in docs/algorithms.md: it can admit up to 2 × limit in some window when a
 * previous window's requests all came at its very end, and it refuses early when they came at
 * its start.
 */
import { costExceedsCapacity, EPSILON, type Algorithm } from "../../algorithm.js";
import type { SlidingWindowCounterPolicy } from "../../policy.js";

/** [start, previous, current]: counts of the windows starting at start − window and at start. */
export type SlidingWindowCounterState = readonly [start: number, previous: number, current: number];

export const slidingWindowCounter: Algorithm<SlidingWindowCounterState, SlidingWindowCounterPolicy> = {
  name: "sliding-window-counter",
  decide(state, policy, now, cost) {
    const { limit, windowMs } = policy;
    const start = now - (now % windowMs);
    let previous = 0;
    let current = 0;
    if (state !== undefined && state[0] === start) [, previous, current] = state;
    else if (state !== undefined && state[0] === start - windowMs) previous = state[2];

    const elapsed = now - start;
    const estimate = (previous * (windowMs - elapsed)) / windowMs + current;
    const resetAt = (counted: number) => (counted > 0 ? start + 2 * windowMs : start + windowMs);

    if (cost > limit) {
      const decision = costExceedsCapacity(policy, unitsLeft(limit, estimate), resetAt(current));
      return { decision, state: [start, previous, current], expiresAt: resetAt(current) };
    }
    if (estimate + cost <= limit + EPSILON) {
      const next = current + cost;
      const decision = { policy, allowed: true, limit, remaining: unitsLeft(limit, estimate + cost), resetAt: resetAt(next) };
      return { decision, state: [start, previous, next], expiresAt: resetAt(next) };
    }
    const decision = { policy, allowed: false, limit, remaining: unitsLeft(limit, estimate), resetAt: resetAt(current), retryAfterMs: waitMs(previous, current, cost, policy) - elapsed };
    return { decision, state: [start, previous, current], expiresAt: resetAt(current) };
  },
};

/**
 * Ms from the window's start until `cost` more units fit: later in this window if the current
 * count leaves room once enough of the previous window has slid out, else in the next window,
 * where today's count becomes the one sliding out.
 */
function waitMs(previous: number, current: number, cost: number, { limit, windowMs }: SlidingWindowCounterPolicy): number {
  const room = limit - current - cost;
  if (room >= 0) return Math.ceil(windowMs - (room * windowMs) / previous);
  return windowMs + Math.max(0, Math.ceil(windowMs - ((limit - cost) * windowMs) / current));
}

function unitsLeft(limit: number, used: number): number {
  return Math.max(0, Math.floor(limit - used + EPSILON));
}
