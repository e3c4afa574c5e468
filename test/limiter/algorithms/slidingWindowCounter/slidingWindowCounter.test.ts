// The sliding window counter keeps two counts per key, the current clock window's and the
// previous one's, and estimates the last window as previous × (share still inside) + current.
// With 4 a second the windows start at whole seconds: [1000, 2000), [2000, 3000), …
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { slidingWindowCounter, type SlidingWindowCounterState } from "../../../../src/limiter/algorithms/slidingWindowCounter/slidingWindowCounter.js";
import type { SlidingWindowCounterPolicy } from "../../../../src/limiter/policy.js";

const fourPerSecond: SlidingWindowCounterPolicy = { name: "counter", algorithm: "sliding-window-counter", limit: 4, windowMs: 1000 };

describe("sliding window counter", () => {
  it("counts a new key in the clock window it arrives in, kept until the next window ends", () => {
    const first = slidingWindowCounter.decide(undefined, fourPerSecond, 1200, 1);
    assert.deepEqual(first.state, [1000, 0, 1]);
    assert.equal(first.decision.remaining, 3);
    assert.equal(first.decision.resetAt, 3000, "the count still weighs on the next window");
    assert.equal(first.expiresAt, 3000);
  });

  it("weighs the previous window by the share of it still inside the sliding window", () => {
    // At 1500 half of [0, 1000) is still inside: 4 × 0.5 + 0 = 2 units counted.
    const outcome = slidingWindowCounter.decide([1000, 4, 0], fourPerSecond, 1500, 1);
    assert.equal(outcome.decision.allowed, true);
    assert.equal(outcome.decision.remaining, 1);
    assert.deepEqual(outcome.state, [1000, 4, 1]);
  });

  it("refuses while the estimate is full, and says when enough of the previous window has slid out", () => {
    const state: SlidingWindowCounterState = [1000, 4, 2];
    const denied = slidingWindowCounter.decide(state, fourPerSecond, 1500, 1);
    assert.deepEqual(denied.decision, { policy: fourPerSecond, allowed: false, limit: 4, remaining: 0, resetAt: 3000, retryAfterMs: 250 });
    assert.deepEqual(denied.state, state);
    assert.equal(slidingWindowCounter.decide(state, fourPerSecond, 1749, 1).decision.allowed, false);
    assert.equal(slidingWindowCounter.decide(state, fourPerSecond, 1750, 1).decision.allowed, true, "4 × 0.25 + 2 + 1 = 4");
  });

  it("waits for the next window when the current count alone leaves no room", () => {
    const state: SlidingWindowCounterState = [1000, 0, 4];
    const denied = slidingWindowCounter.decide(state, fourPerSecond, 1500, 1);
    assert.equal(denied.decision.retryAfterMs, 750, "into the next window, until a quarter of this one has slid out");
    assert.equal(slidingWindowCounter.decide(state, fourPerSecond, 2249, 1).decision.allowed, false);
    assert.equal(slidingWindowCounter.decide(state, fourPerSecond, 2250, 1).decision.allowed, true, "4 × 0.75 + 0 + 1 = 4");
  });

  it("carries the current count into the next window as its previous one, and forgets older counts", () => {
    const next = slidingWindowCounter.decide([1000, 4, 2], fourPerSecond, 2100, 1);
    assert.deepEqual(next.state, [2000, 2, 1]);
    assert.equal(next.decision.remaining, 1, "2 × 0.9 + 1 = 2.8 counted");

    const later = slidingWindowCounter.decide([1000, 4, 4], fourPerSecond, 3100, 1);
    assert.deepEqual(later.state, [3000, 0, 1]);
    assert.equal(later.decision.remaining, 3);
  });

  it("refuses a cost above the limit outright, with a reason", () => {
    const outcome = slidingWindowCounter.decide(undefined, fourPerSecond, 1200, 5);
    assert.equal(outcome.decision.reason, "cost-exceeds-limit");
    assert.equal(outcome.decision.remaining, 4);
    assert.equal(outcome.decision.retryAfterMs, 1000);
  });

  it("peeks without counting when the cost is 0", () => {
    const peek = slidingWindowCounter.decide([1000, 4, 1], fourPerSecond, 1500, 0);
    assert.equal(peek.decision.allowed, true);
    assert.equal(peek.decision.remaining, 1);
    assert.deepEqual(peek.state, [1000, 4, 1]);

    const fresh = slidingWindowCounter.decide(undefined, fourPerSecond, 1200, 0);
    assert.equal(fresh.decision.remaining, 4);
    assert.equal(fresh.decision.resetAt, 2000, "nothing counted: whole at the end of this window");
  });
});
