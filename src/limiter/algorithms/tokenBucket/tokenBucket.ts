/**
 * Token bucket, stated the classic way: a bucket of `capacity` tokens, refilled at `limit` tokens
 * per window; a request takes `cost` tokens or waits. State per key: the tokens left and when they
 * were counted. It admits exactly what GCRA admits with burst = capacity (a property test holds
 * the two together); choose it when you think in "capacity and refill rate". See docs/algorithms.md.
 */
import { costExceedsCapacity, EPSILON, type Algorithm } from "../../algorithm.js";
import type { TokenBucketPolicy } from "../../policy.js";

/** [tokens, at]: the bucket held `tokens` at epoch ms `at`. */
export type TokenBucketState = readonly [tokens: number, at: number];

export const tokenBucket: Algorithm<TokenBucketState, TokenBucketPolicy> = {
  name: "token-bucket",
  decide(state, policy, now, cost) {
    const { limit, windowMs, capacity } = policy;
    const msPerToken = windowMs / limit;
    const tokens = state === undefined ? capacity : Math.min(capacity, state[0] + Math.max(0, now - state[1]) / msPerToken);
    const fullAt = (left: number) => now + (capacity - left) * msPerToken;

    if (cost > capacity) {
      return { decision: costExceedsCapacity(policy, wholeTokens(tokens), fullAt(tokens)), state: [tokens, now], expiresAt: fullAt(tokens) };
    }
    if (tokens + EPSILON >= cost) {
      const left = Math.max(0, tokens - cost);
      const resetAt = fullAt(left);
      return { decision: { policy, allowed: true, limit, remaining: wholeTokens(left), resetAt }, state: [left, now], expiresAt: resetAt };
    }
    const resetAt = fullAt(tokens);
    const decision = { policy, allowed: false, limit, remaining: wholeTokens(tokens), resetAt, retryAfterMs: (cost - tokens) * msPerToken };
    return { decision, state: [tokens, now], expiresAt: resetAt };
  },
};

function wholeTokens(tokens: number): number {
  return Math.floor(tokens + EPSILON);
}
