// A token bucket of 4 tokens, refilled at 2 a second (a token every 500 ms): a full bucket admits
// 4 at once, then one every 500 ms. The state is the tokens left and when they were counted.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tokenBucket, type TokenBucketState } from "../../../../src/limiter/algorithms/tokenBucket/tokenBucket.js";
import type { TokenBucketPolicy } from "../../../../src/limiter/policy.js";

const bucket: TokenBucketPolicy = { name: "bucket", algorithm: "token-bucket", limit: 2, windowMs: 1000, capacity: 4 };

describe("token bucket", () => {
  it("starts a new key with a full bucket, and each admitted unit takes a token", () => {
    let state: TokenBucketState | undefined;
    const outcomes = [0, 0, 0, 0].map((now) => {
      const outcome = tokenBucket.decide(state, bucket, now, 1);
      state = outcome.state;
      return outcome;
    });
    assert.deepEqual(outcomes.map((o) => o.decision.remaining), [3, 2, 1, 0]);
    assert.deepEqual(outcomes.map((o) => o.decision.resetAt), [500, 1000, 1500, 2000], "full again a token's time per missing token");
    assert.deepEqual(state, [0, 0]);
    assert.equal(outcomes[3]?.expiresAt, 2000);
  });

  it("refuses an empty bucket, says when the token comes, and leaves the state as it was", () => {
    const empty: TokenBucketState = [0, 0];
    const denied = tokenBucket.decide(empty, bucket, 0, 1);
    assert.deepEqual(denied.decision, { policy: bucket, allowed: false, limit: 2, remaining: 0, resetAt: 2000, retryAfterMs: 500 });
    assert.equal(tokenBucket.decide(empty, bucket, 499, 1).decision.allowed, false);
    assert.equal(tokenBucket.decide(empty, bucket, 500, 1).decision.allowed, true);
  });

  it("refills at the rate, counting fractions of a token, and never above its capacity", () => {
    const half = tokenBucket.decide([0, 0], bucket, 750, 1);
    assert.equal(half.decision.allowed, true, "1.5 tokens after 750 ms");
    assert.equal(half.decision.remaining, 0, "half a token left is no whole token");
    assert.deepEqual(half.state, [0.5, 750]);
    assert.equal(half.decision.resetAt, 2500);

    const rested = tokenBucket.decide([0, 0], bucket, 60_000, 1);
    assert.equal(rested.decision.remaining, 3, "a minute's refill is capped at the 4 the bucket holds");
  });

  it("makes a cost wait for every token it lacks", () => {
    const denied = tokenBucket.decide([1, 0], bucket, 0, 3);
    assert.equal(denied.decision.allowed, false);
    assert.equal(denied.decision.remaining, 1);
    assert.equal(denied.decision.retryAfterMs, 1000, "two tokens missing, 500 ms each");
    assert.deepEqual(tokenBucket.decide([1, 0], bucket, 1000, 3).state, [0, 1000]);
  });

  it("refuses a cost above the capacity outright, with a reason", () => {
    const outcome = tokenBucket.decide(undefined, bucket, 0, 5);
    assert.equal(outcome.decision.reason, "cost-exceeds-limit");
    assert.equal(outcome.decision.remaining, 4);
    assert.equal(outcome.decision.retryAfterMs, 1000);
  });

  it("peeks without taking a token when the cost is 0", () => {
    const peek = tokenBucket.decide([2.5, 0], bucket, 0, 0);
    assert.equal(peek.decision.allowed, true);
    assert.equal(peek.decision.remaining, 2);
    assert.deepEqual(peek.state, [2.5, 0]);
  });

  it("does not lose a token to rounding when a token's time is fractional", () => {
    // 3 a second: a token every 333.33… ms, and three of them must still be back after 1 s.
    const three: TokenBucketPolicy = { ...bucket, limit: 3, capacity: 3 };
    const outcome = tokenBucket.decide([0, 0], three, 1000, 3);
    assert.equal(outcome.decision.allowed, true);
    assert.equal(outcome.decision.remaining, 0);
  });
});
