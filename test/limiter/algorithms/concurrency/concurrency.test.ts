// A concurrency limit counts units in flight, not per window: 2 at once, each admitted request
// holding a lease until it is given back, or until it lapses a window (here a minute) later.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concurrency, CONCURRENCY_RETRY_MS, type Lease } from "../../../../src/limiter/algorithms/concurrency/concurrency.js";
import type { ConcurrencyPolicy } from "../../../../src/limiter/policy.js";

const twoAtOnce: ConcurrencyPolicy = { name: "inflight", algorithm: "concurrency", limit: 2, windowMs: 60_000 };
const twoHeld: readonly Lease[] = [["a", 1, 60_000], ["b", 1, 60_010]];

describe("concurrency", () => {
  it("admits while the units in flight fit, each request taking a lease that lapses a window later", () => {
    const first = concurrency.decide(undefined, twoAtOnce, 0, 1, "a");
    assert.deepEqual(first.state, [["a", 1, 60_000]]);
    assert.equal(first.decision.remaining, 1);
    assert.equal(first.decision.resetAt, 60_000);
    const second = concurrency.decide(first.state, twoAtOnce, 10, 1, "b");
    assert.deepEqual(second.state, twoHeld);
    assert.equal(second.decision.remaining, 0);
    assert.equal(second.expiresAt, 60_010);
  });

  it("refuses when the slots are taken, asking the client to try again in a second", () => {
    const denied = concurrency.decide(twoHeld, twoAtOnce, 20, 1, "c");
    assert.deepEqual(denied.decision, { policy: twoAtOnce, allowed: false, limit: 2, remaining: 0, resetAt: 60_010, retryAfterMs: CONCURRENCY_RETRY_MS });
    assert.deepEqual(denied.state, twoHeld, "a refused request holds nothing");
  });

  it("frees a lease's units when it is given back", () => {
    const released = concurrency.release!(twoHeld, twoAtOnce, 20, "a");
    assert.deepEqual(released?.state, [["b", 1, 60_010]]);
    assert.equal(released?.decision.remaining, 1);
    assert.equal(concurrency.decide(released?.state, twoAtOnce, 30, 1, "c").decision.allowed, true);
  });

  it("drops a lease never given back once its window has passed", () => {
    const outcome = concurrency.decide(twoHeld, twoAtOnce, 60_000, 1, "c");
    assert.equal(outcome.decision.allowed, true, "lease a lapsed at 60,000");
    assert.deepEqual(outcome.state, [["b", 1, 60_010], ["c", 1, 120_000]]);
  });

  it("counts a request's cost in units, and refuses one above the limit outright", () => {
    const both = concurrency.decide(undefined, twoAtOnce, 0, 2, "a");
    assert.equal(both.decision.remaining, 0);
    assert.deepEqual(both.state, [["a", 2, 60_000]]);

    const tooMany = concurrency.decide(undefined, twoAtOnce, 0, 3, "a");
    assert.equal(tooMany.decision.reason, "cost-exceeds-limit");
    assert.equal(tooMany.decision.remaining, 2);
    assert.equal(tooMany.decision.retryAfterMs, 60_000);
  });

  it("peeks without taking a lease when the cost is 0", () => {
    const full = concurrency.decide(twoHeld, twoAtOnce, 20, 0, "c");
    assert.equal(full.decision.allowed, true, "nothing asked for fits even when every slot is taken");
    assert.equal(full.decision.remaining, 0);
    assert.deepEqual(full.state, twoHeld);
    const one = concurrency.decide([["a", 1, 60_000]], twoAtOnce, 20, 0, "c");
    assert.equal(one.decision.allowed, true);
    assert.equal(one.decision.remaining, 1);
    assert.deepEqual(one.state, [["a", 1, 60_000]]);
    assert.equal(one.decision.resetAt, 60_000, "whole when the last lease lapses");
  });
});
