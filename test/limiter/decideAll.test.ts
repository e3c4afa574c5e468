// Several limits, one answer: a request is admitted only when every limit admits it, and a
// refused request consumes nothing from any of them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideAll } from "../../src/limiter/decideAll.js";
import type { LimitCheck, Policy } from "../../src/limiter/policy.js";

const burst: Policy = { name: "burst", algorithm: "gcra", limit: 2, windowMs: 1000 };
const daily: Policy = { name: "daily", algorithm: "fixed-window", limit: 10, windowMs: 86_400_000 };
const checks: LimitCheck[] = [
  { key: "burst|alice", policy: burst, cost: 1 },
  { key: "daily|alice", policy: daily, cost: 1 },
];

describe("decideAll", () => {
  it("admits when every limit admits and returns a state to write for each", () => {
    const { verdict, writes } = decideAll([undefined, undefined], checks, 0);
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.now, 0);
    assert.deepEqual(verdict.decisions.map((d) => [d.policy.name, d.remaining]), [["burst", 1], ["daily", 9]]);
    assert.deepEqual(writes?.map((w) => w?.state), [500, [0, 1]]);
  });

  it("refuses when one limit refuses, writes nothing, and reports the others untouched", () => {
    const spentBurst = 1000; // TAT one window ahead: the bucket is empty
    const daySoFar = [0, 4];
    const { verdict, writes } = decideAll([spentBurst, daySoFar], checks, 0);
    assert.equal(verdict.allowed, false);
    assert.equal(writes, undefined);
    const [burstDecision, dailyDecision] = verdict.decisions;
    assert.equal(burstDecision?.allowed, false);
    assert.equal(burstDecision?.retryAfterMs, 500);
    assert.equal(dailyDecision?.allowed, true);
    assert.equal(dailyDecision?.remaining, 6, "the day's counter did not pay for the refused request");
  });

  it("keeps the order of the checks in its decisions", () => {
    const { verdict } = decideAll([undefined, undefined], [...checks].reverse(), 0);
    assert.deepEqual(verdict.decisions.map((d) => d.policy.name), ["daily", "burst"]);
  });

  it("admits a request under no limits at all", () => {
    const { verdict, writes } = decideAll([], [], 7);
    assert.equal(verdict.allowed, true);
    assert.deepEqual(verdict.decisions, []);
    assert.deepEqual(writes, []);
  });
});
