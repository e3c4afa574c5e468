// The retry budget: retries stay within a share of the requests over the window, plus a floor
// for quiet services, and the window forgets old traffic.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RetryBudget } from "../../../src/gateway/upstream/retryBudget.js";
import { ManualClock } from "../../support/manualClock.js";

function retriesAllowed(budget: RetryBudget, tries: number): number {
  let allowed = 0;
  for (let i = 0; i < tries; i++) if (budget.tryRetry()) allowed++;
  return allowed;
}

describe("RetryBudget", () => {
  it("allows the floor per second of window when there is no traffic", () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, windowMs: 10_000 }, new ManualClock().read);
    assert.equal(retriesAllowed(budget, 100), 10);
  });

  it("allows a share of the requests on top of the floor", () => {
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 }, new ManualClock().read);
    for (let i = 0; i < 500; i++) budget.requested();
    assert.equal(retriesAllowed(budget, 1_000), 100);
  });

  it("forgets requests and retries older than the window", () => {
    const clock = new ManualClock();
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0, windowMs: 10_000 }, clock.read);
    for (let i = 0; i < 100; i++) budget.requested();
    assert.equal(retriesAllowed(budget, 100), 50);
    clock.advance(10_000);
    assert.equal(retriesAllowed(budget, 100), 0, "the requests that paid for retries have left the window");
    for (let i = 0; i < 10; i++) budget.requested();
    assert.equal(retriesAllowed(budget, 100), 5);
  });

  it("slides: half a window later, half the buckets still count", () => {
    const clock = new ManualClock(0);
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0, windowMs: 10_000 }, clock.read);
    for (let i = 0; i < 10; i++) budget.requested();
    clock.advance(5_000);
    for (let i = 0; i < 10; i++) budget.requested();
    clock.advance(5_000);
    assert.equal(retriesAllowed(budget, 100), 10, "only the second batch is still in the window");
  });
});
