/**
 * Fixed window: a counter that starts with a key's first request and lasts one window. Once the
 * counter is spent the key is locked out until that window ends (the original random-number
 * scenario: 5 a minute, then wait for the minute to be over). Windows begin at each key's first
 * request, not at clock boundaries, so a lock-out always lasts the rest of that client's window
 * and clients do not all get fresh counters at the same instant. Like every fixed window, it
 * admits up to 2 × limit − 1 around the end of a window. See docs/algorithms.md.
 */
import type { Algorithm } from "../algorithm.js";

export interface FixedWindowState {
  readonly start: number;
  readonly count: number;
}

export const fixedWindow: Algorithm<FixedWindowState> = {
  name: "fixed-window",
  decide(state, policy, now, cost) {
    const { limit, windowMs } = policy;
    const current = state !== undefined && now < state.start + windowMs ? state : { start: now, count: 0 };
    const resetAt = current.start + windowMs;

    if (cost > limit) {
      const decision = { policy, allowed: false, limit, remaining: Math.max(0, limit - current.count), resetAt, retryAfterMs: windowMs, reason: "cost-exceeds-limit" } as const;
      return { decision, state: current, expiresAt: resetAt };
    }
    if (current.count + cost <= limit) {
      const next = cost === 0 ? current : { start: current.start, count: current.count + cost };
      const decision = { policy, allowed: true, limit, remaining: limit - next.count, resetAt };
      return { decision, state: next, expiresAt: resetAt };
    }
    const decision = { policy, allowed: false, limit, remaining: Math.max(0, limit - current.count), resetAt, retryAfterMs: resetAt - now };
    return { decision, state: current, expiresAt: resetAt };
  },
};
