/**
 * Sliding window log: remembers the time of every admitted unit in the last window. Exact — no
 * window ever holds more than `limit` units — at the price of `limit` timestamps of state per key,
 * so it suits small limits (the original gateway's 5 per 30 s). See docs/algorithms.md.
 *
 * State: admitted unit timestamps, oldest first. A unit admitted at t counts while now < t + window.
 */
import { costExceedsCapacity, type Algorithm } from "../../algorithm.js";
import type { SlidingWindowLogPolicy } from "../../policy.js";

export const slidingWindowLog: Algorithm<readonly number[], SlidingWindowLogPolicy> = {
  name: "sliding-window-log",
  decide(log = [], policy, now, cost) {
    const { limit, windowMs } = policy;
    let firstLive = 0;
    while (firstLive < log.length && (log[firstLive] as number) + windowMs <= now) firstLive++;
    const live = firstLive === 0 ? log : log.slice(firstLive);
    const used = live.length;
    const resetAt = used === 0 ? now : (live[used - 1] as number) + windowMs;

    if (cost > limit) return { decision: costExceedsCapacity(policy, Math.max(0, limit - used), resetAt), state: live, expiresAt: resetAt };
    if (used + cost <= limit) {
      const next = cost === 0 ? live : [...live, ...new Array<number>(cost).fill(now)];
      const nextResetAt = cost === 0 ? resetAt : now + windowMs;
      const decision = { policy, allowed: true, limit, remaining: limit - used - cost, resetAt: nextResetAt };
      return { decision, state: next, expiresAt: nextResetAt };
    }
    // Admitting `cost` units needs the oldest (used + cost − limit) units to have expired.
    const mustExpire = live[used + cost - limit - 1] as number;
    const decision = { policy, allowed: false, limit, remaining: Math.max(0, limit - used), resetAt, retryAfterMs: mustExpire + windowMs - now };
    return { decision, state: live, expiresAt: resetAt };
  },
};
