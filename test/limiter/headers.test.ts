// The standard headers: RateLimit-Policy lists every limit, RateLimit describes the one closest
// to exhaustion, and Retry-After is whole seconds, rounded up, never below 1.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Decision } from "../../src/limiter/decision.js";
import { bindingDecision, rateLimitHeader, rateLimitPolicyHeader, retryAfterSeconds } from "../../src/limiter/headers.js";
import type { Policy } from "../../src/limiter/policy.js";

const perClient: Policy = { name: "per-client", algorithm: "sliding-window-log", limit: 5, windowMs: 30_000 };
const perSecond: Policy = { name: "per-second", algorithm: "gcra", limit: 10, windowMs: 1000 };
const daily: Policy = { name: "daily", algorithm: "fixed-window", limit: 1000, windowMs: 86_400_000 };

function decision(policy: Policy, fields: Partial<Decision>): Decision {
  return { policy, allowed: true, limit: policy.limit, remaining: policy.limit, resetAt: 0, ...fields };
}

describe("RateLimit-Policy", () => {
  it("lists every policy with its quota and window in seconds", () => {
    assert.equal(rateLimitPolicyHeader([perClient, daily]), '"per-client";q=5;w=30, "daily";q=1000;w=86400');
  });

  it("rounds a sub-second window up to whole seconds", () => {
    assert.equal(rateLimitPolicyHeader([{ ...perSecond, windowMs: 1500 }]), '"per-second";q=10;w=2');
  });
});

describe("RateLimit", () => {
  it("gives the units left and the seconds until the limit is whole, rounded up", () => {
    assert.equal(rateLimitHeader(decision(perClient, { remaining: 4, resetAt: 29_001 }), 0), '"per-client";r=4;t=30');
  });

  it("never reports a negative reset", () => {
    assert.equal(rateLimitHeader(decision(perClient, { resetAt: 0 }), 5000), '"per-client";r=5;t=0');
  });
});

describe("the binding decision", () => {
  it("is, when admitted, the limit with the fewest units left", () => {
    const verdict = {
      allowed: true,
      now: 0,
      decisions: [decision(daily, { remaining: 999 }), decision(perSecond, { remaining: 3 }), decision(perClient, { remaining: 4 })],
    };
    assert.equal(bindingDecision(verdict)?.policy, perSecond);
  });

  it("breaks a tie on units left by the later reset", () => {
    const verdict = { allowed: true, now: 0, decisions: [decision(perSecond, { remaining: 1, resetAt: 1000 }), decision(daily, { remaining: 1, resetAt: 9000 })] };
    assert.equal(bindingDecision(verdict)?.policy, daily);
  });

  it("is, when refused, the refusal that lasts longest, never an admitting limit", () => {
    const verdict = {
      allowed: false,
      now: 0,
      decisions: [
        decision(perClient, { remaining: 0 }),
        decision(perSecond, { allowed: false, remaining: 0, retryAfterMs: 100 }),
        decision(daily, { allowed: false, remaining: 0, retryAfterMs: 60_000 }),
      ],
    };
    assert.equal(bindingDecision(verdict)?.policy, daily);
  });

  it("is absent when no limit applies", () => {
    assert.equal(bindingDecision({ allowed: true, now: 0, decisions: [] }), undefined);
  });
});

describe("Retry-After", () => {
  const cases: [ms: number, seconds: number][] = [[-5, 1], [0, 1], [1, 1], [999, 1], [1000, 1], [1001, 2], [59_999, 60]];
  for (const [ms, seconds] of cases) {
    it(`is ${seconds} s for ${ms} ms`, () => assert.equal(retryAfterSeconds(ms), seconds));
  }
});
