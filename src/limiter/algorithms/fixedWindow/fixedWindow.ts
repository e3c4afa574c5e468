/**
 * Fixed window: a counter that lasts one window. By default a key's window starts at its first
 * request, so once the counter is spent the key is locked out until its own window ends (the
 * original random-number scenario: 5 a minute, then wait for the minute to be over); with
 * `align: clock` windows start at multiples of the window since the epoch, so a daily quota
 * resets at 00:00 UTC for everyone. Either way it admits up to 2 × limit − 1 around the end of a
 * window. See docs/algorithms.md.
 */
import { costExceedsCapacity, type Algorithm } from "../../algorithm.js";
import type { FixedWindowPolicy } from "../../policy.js";

/** [start, count]: `count` units admitted in the window that began at `start`. */
export type FixedWindowState = readonly [start: number, count: number];

export const fixedWindow: Algorithm<FixedWindowState, FixedWindowPolicy> = {
  name: "fixed-window",
  decide(state, policy, now, cost) {
    const { limit, windowMs } = policy;
    const current: FixedWindowState = state !== undefined && now < state[0] + windowMs && now >= state[0]
      ? state
      : [policy.align === "clock" ? now - (now % windowMs) : now, 0];
    const [start, count] = current;
    const resetAt = start + windowMs;

    if (cost > limit) {
      return { decision: costExceedsCapacity(policy, Math.max(0, limit - count), resetAt), state: current, expiresAt: resetAt };
    }
    if (count + cost <= limit) {
      const next: FixedWindowState = cost === 0 ? current : [start, count + cost];
      return { decision: { policy, allowed: true, limit, remaining: limit - next[1], resetAt }, state: next, expiresAt: resetAt };
    }
    const decision = { policy, allowed: false, limit, remaining: Math.max(0, limit - count), resetAt, retryAfterMs: resetAt - now };
    return { decision, state: current, expiresAt: resetAt };
  },
};
