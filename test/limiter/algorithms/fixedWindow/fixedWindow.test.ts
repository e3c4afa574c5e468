// A fixed window starts with a key's first request and lasts one window; once spent, the key is
// locked out until that window ends (the original scenario: 5 a minute, then wait out the minute).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fixedWindow, type FixedWindowState } from "../../../../src/limiter/algorithms/fixedWindow/fixedWindow.js";
import type { Policy } from "../../../../src/limiter/policy.js";

const threePerSecond: Policy = { name: "fixed", algorithm: "fixed-window", limit: 3, windowMs: 1000 };

describe("fixed window", () => {
  it("starts the window at the key's first request, not at a clock boundary", () => {
    const first = fixedWindow.decide(undefined, threePerSecond, 1500, 1);
    assert.deepEqual(first.state, [1500, 1]);
    assert.equal(first.decision.resetAt, 2500);
    assert.equal(first.decision.remaining, 2);
    assert.equal(first.expiresAt, 2500);
  });

  it("locks the key out for the rest of its window once the counter is spent", () => {
    const spent: FixedWindowState = [1500, 3];
    const denied = fixedWindow.decide(spent, threePerSecond, 1900, 1);
    assert.deepEqual(denied.decision, { policy: threePerSecond, allowed: false, limit: 3, remaining: 0, resetAt: 2500, retryAfterMs: 600 });
    assert.deepEqual(denied.state, spent);
    assert.equal(fixedWindow.decide(spent, threePerSecond, 2499, 1).decision.allowed, false);
  });

  it("opens a fresh window at the end of the old one", () => {
    const next = fixedWindow.decide([1500, 3], threePerSecond, 2500, 1);
    assert.equal(next.decision.allowed, true);
    assert.deepEqual(next.state, [2500, 1]);
    assert.equal(next.decision.resetAt, 3500);
  });

  it("charges the cost and denies one that no longer fits, leaving the counter as it was", () => {
    const state: FixedWindowState = [0, 2];
    const denied = fixedWindow.decide(state, threePerSecond, 100, 2);
    assert.equal(denied.decision.allowed, false);
    assert.equal(denied.decision.remaining, 1);
    const fits = fixedWindow.decide(state, threePerSecond, 100, 1);
    assert.deepEqual(fits.state, [0, 3]);
  });

  it("refuses a cost above the limit outright, with a reason", () => {
    const outcome = fixedWindow.decide(undefined, threePerSecond, 0, 4);
    assert.equal(outcome.decision.reason, "cost-exceeds-limit");
    assert.equal(outcome.decision.remaining, 3);
  });

  it("peeks without counting when the cost is 0", () => {
    const state: FixedWindowState = [0, 1];
    const peek = fixedWindow.decide(state, threePerSecond, 10, 0);
    assert.equal(peek.decision.remaining, 2);
    assert.equal(peek.state, state);
  });
});
