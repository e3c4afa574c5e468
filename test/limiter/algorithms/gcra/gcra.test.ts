// GCRA keeps one number per key, the theoretical arrival time (TAT). With 5 per second the
// emission interval is 200 ms: a full bucket admits 5 at once, then one every 200 ms.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gcra } from "../../../../src/limiter/algorithms/gcra/gcra.js";
import type { GcraPolicy } from "../../../../src/limiter/policy.js";

const fivePerSecond: GcraPolicy = { name: "api", algorithm: "gcra", limit: 5, windowMs: 1000 };

/** Sends `costs` at `now` one after another, threading the state, and returns the last outcome. */
function run(policy: GcraPolicy, requests: readonly (readonly [now: number, cost: number])[], initial?: number) {
  let state = initial;
  const outcomes = requests.map(([now, cost]) => {
    const outcome = gcra.decide(state, policy, now, cost);
    if (outcome.decision.allowed) state = outcome.state;
    return outcome;
  });
  return { outcomes, state };
}

describe("gcra", () => {
  it("admits a full burst from a new key, counting remaining down to 0", () => {
    const { outcomes, state } = run(fivePerSecond, [[0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]);
    assert.deepEqual(outcomes.map((o) => o.decision.allowed), [true, true, true, true, true]);
    assert.deepEqual(outcomes.map((o) => o.decision.remaining), [4, 3, 2, 1, 0]);
    assert.equal(state, 1000, "TAT is five intervals ahead");
    assert.equal(outcomes[4]?.decision.resetAt, 1000);
    assert.equal(outcomes[4]?.expiresAt, 1000);
  });

  it("denies the next request until one interval has passed, and says exactly how long to wait", () => {
    const denied = gcra.decide(1000, fivePerSecond, 0, 1);
    assert.deepEqual(denied.decision, { policy: fivePerSecond, allowed: false, limit: 5, remaining: 0, resetAt: 1000, retryAfterMs: 200 });
    assert.equal(denied.state, 1000, "a denial leaves the state as it was");

    assert.equal(gcra.decide(1000, fivePerSecond, 199, 1).decision.allowed, false);
    const later = gcra.decide(1000, fivePerSecond, 200, 1);
    assert.equal(later.decision.allowed, true);
    assert.equal(later.decision.remaining, 0);
    assert.equal(later.state, 1200);
  });

  it("refills at the rate: after a quiet window the bucket is full again", () => {
    const outcome = gcra.decide(1000, fivePerSecond, 5000, 1);
    assert.equal(outcome.decision.remaining, 4);
    assert.equal(outcome.state, 5200, "an old TAT counts from now, not from the past");
  });

  it("charges the cost in units and denies a cost the bucket can no longer hold", () => {
    const first = gcra.decide(undefined, fivePerSecond, 0, 3);
    assert.equal(first.decision.remaining, 2);
    const second = gcra.decide(first.state, fivePerSecond, 0, 3);
    assert.equal(second.decision.allowed, false);
    assert.equal(second.decision.remaining, 2);
    assert.equal(second.decision.retryAfterMs, 200, "one unit must drain before three fit");
  });

  it("refuses a cost above the burst outright, with a reason", () => {
    const outcome = gcra.decide(undefined, fivePerSecond, 0, 6);
    assert.equal(outcome.decision.allowed, false);
    assert.equal(outcome.decision.reason, "cost-exceeds-limit");
    assert.equal(outcome.decision.remaining, 5);
    assert.equal(outcome.decision.retryAfterMs, 1000);
  });

  it("separates the rate from the burst: 10 per second, at most 2 at once", () => {
    const policy: GcraPolicy = { ...fivePerSecond, limit: 10, burst: 2 };
    const { outcomes } = run(policy, [[0, 1], [0, 1], [0, 1], [100, 1]]);
    assert.deepEqual(outcomes.map((o) => o.decision.allowed), [true, true, false, true]);
    assert.deepEqual(outcomes.map((o) => o.decision.remaining), [1, 0, 0, 0]);
    assert.equal(outcomes[2]?.decision.retryAfterMs, 100);
    assert.equal(outcomes[0]?.decision.limit, 10, "clients are told the rate, not the burst");
  });

  it("peeks without consuming when the cost is 0", () => {
    const peek = gcra.decide(600, fivePerSecond, 0, 0);
    assert.equal(peek.decision.allowed, true);
    assert.equal(peek.decision.remaining, 2);
    assert.equal(peek.state, 600);
  });

  it("never says more remain than the bucket holds after the request, even at a billion per second", () => {
    // A unit is a nanosecond there, finer than an epoch-ms double near 1.7e12 can tell apart
    // (and than the microsecond of tolerance): the count is coarse, but never above the bucket.
    const billion: GcraPolicy = { name: "fast", algorithm: "gcra", limit: 1e9, windowMs: 1000 };
    const { outcomes } = run(billion, [[1_700_000_000_000, 1], [1_700_000_000_000, 1], [1_700_000_000_000, 0]]);
    assert.deepEqual(outcomes.map((o) => o.decision.remaining), [1e9 - 1, 1e9 - 1, 1e9]);
  });

  it("does not lose a unit to rounding when the interval is fractional", () => {
    // 3 per second: the interval is 333.33… ms, and three of them must still fill exactly 1 s.
    const policy: GcraPolicy = { ...fivePerSecond, limit: 3 };
    const { outcomes } = run(policy, [[0, 1], [0, 1], [0, 1], [0, 1]]);
    assert.deepEqual(outcomes.map((o) => o.decision.allowed), [true, true, true, false]);
    assert.deepEqual(outcomes.map((o) => o.decision.remaining), [2, 1, 0, 0]);
  });
});
