// The sliding window log remembers when every admitted unit arrived: 3 per second means no
// window of 1000 ms, wherever it starts, ever holds more than 3 units.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { slidingWindowLog } from "../../../../src/limiter/algorithms/slidingWindowLog/slidingWindowLog.js";
import type { Policy } from "../../../../src/limiter/policy.js";

const threePerSecond: Policy = { name: "log", algorithm: "sliding-window-log", limit: 3, windowMs: 1000 };

describe("sliding window log", () => {
  it("admits up to the limit and records each admitted unit's time", () => {
    const a = slidingWindowLog.decide(undefined, threePerSecond, 0, 1);
    const b = slidingWindowLog.decide(a.state, threePerSecond, 100, 1);
    const c = slidingWindowLog.decide(b.state, threePerSecond, 200, 1);
    assert.deepEqual([a, b, c].map((o) => o.decision.remaining), [2, 1, 0]);
    assert.deepEqual(c.state, [0, 100, 200]);
    assert.equal(c.decision.resetAt, 1200, "whole again when the newest unit leaves the window");
    assert.equal(c.expiresAt, 1200);
  });

  it("denies until the oldest unit leaves the window, and not a millisecond longer", () => {
    const log = [0, 100, 200];
    const denied = slidingWindowLog.decide(log, threePerSecond, 300, 1);
    assert.deepEqual(denied.decision, { policy: threePerSecond, allowed: false, limit: 3, remaining: 0, resetAt: 1200, retryAfterMs: 700 });
    assert.equal(slidingWindowLog.decide(log, threePerSecond, 999, 1).decision.allowed, false);

    const admitted = slidingWindowLog.decide(log, threePerSecond, 1000, 1);
    assert.equal(admitted.decision.allowed, true);
    assert.deepEqual(admitted.state, [100, 200, 1000], "expired units are dropped from the state");
  });

  it("for a cost of several units, waits for as many old units to expire", () => {
    const log = [0, 100];
    const denied = slidingWindowLog.decide(log, threePerSecond, 500, 2);
    assert.equal(denied.decision.allowed, false);
    assert.equal(denied.decision.remaining, 1);
    assert.equal(denied.decision.retryAfterMs, 500, "only the unit from t=0 must go");

    const admitted = slidingWindowLog.decide(log, threePerSecond, 1000, 2);
    assert.deepEqual(admitted.state, [100, 1000, 1000]);
    assert.equal(admitted.decision.remaining, 0);
  });

  it("refuses a cost above the limit outright, with a reason", () => {
    const outcome = slidingWindowLog.decide([0], threePerSecond, 10, 4);
    assert.equal(outcome.decision.reason, "cost-exceeds-limit");
    assert.equal(outcome.decision.remaining, 2);
    assert.equal(outcome.decision.retryAfterMs, 1000);
  });

  it("peeks without recording anything when the cost is 0", () => {
    const peek = slidingWindowLog.decide([0, 100], threePerSecond, 500, 0);
    assert.equal(peek.decision.allowed, true);
    assert.equal(peek.decision.remaining, 1);
    assert.equal(peek.decision.resetAt, 1100);
    assert.deepEqual(peek.state, [0, 100]);
  });

  it("reports a fresh key as whole now", () => {
    const peek = slidingWindowLog.decide(undefined, threePerSecond, 42, 0);
    assert.equal(peek.decision.remaining, 3);
    assert.equal(peek.decision.resetAt, 42);
  });
});
