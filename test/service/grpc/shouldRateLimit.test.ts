// The translation between Envoy's messages and Sluice's limiter, without a network: limits
// stated in Envoy's units, which units a descriptor takes, what is refused before the store is
// asked, and statuses for a shadow limit and for the over-limit cache's partial verdicts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../../src/config/loader.js";
import type { Verdict } from "../../../src/limiter/decision.js";
import type { Policy } from "../../../src/limiter/policy.js";
import { compilePolicyBook } from "../../../src/service/descriptorPolicies.js";
import { envoyLimit, InvalidRateLimitRequest, planDecision, responseFor, RLS_BOUNDS } from "../../../src/service/grpc/shouldRateLimit.js";

const book = compilePolicyBook(parseConfig(`
policies:
  edge:
    descriptors:
      - key: user
        limit: { algorithm: fixed-window, limit: 10, window: 1m }
      - key: watched
        limit: { algorithm: fixed-window, limit: 1, window: 1m, shadow: true }
      - key: free
`, "test.yaml").policies);

const gcra = (limit: number, windowMs: number): Policy => ({ name: "p", algorithm: "gcra", limit, windowMs });

describe("envoyLimit", () => {
  const cases = [
    { window: 1_000, limit: 7, expected: [7, "SECOND"] },
    { window: 60_000, limit: 7, expected: [7, "MINUTE"] },
    { window: 3_600_000, limit: 7, expected: [7, "HOUR"] },
    { window: 86_400_000, limit: 7, expected: [7, "DAY"] },
    { window: 500, limit: 1, expected: [2, "SECOND"] },
    { window: 30_000, limit: 5, expected: [10, "MINUTE"] },
    { window: 90_000, limit: 3, expected: [120, "HOUR"] },
    { window: 2 * 86_400_000, limit: 10, expected: [5, "DAY"] },
    { window: 7 * 86_400_000, limit: 1, expected: [1, "DAY"] },
  ] as const;
  for (const { window, limit, expected } of cases) {
    it(`states ${limit} per ${window} ms as ${expected[0]} per ${expected[1]}`, () => {
      const stated = envoyLimit(gcra(limit, window));
      assert.deepEqual([stated.requests_per_unit, stated.unit], expected);
    });
  }
});

describe("planDecision", () => {
  it("takes the descriptor's own hits_addend over the request's, and 1 when the request's is 0", () => {
    const plan = planDecision(book, {
      domain: "edge",
      hits_addend: 0,
      descriptors: [
        { entries: [{ key: "user", value: "a" }] },
        { entries: [{ key: "user", value: "b" }], hits_addend: { value: 4 } },
        { entries: [{ key: "user", value: "c" }], hits_addend: { value: 0 } },
        { entries: [{ key: "free", value: "x" }] },
      ],
    });
    assert.deepEqual(plan.checks.map((c) => c.cost), [1, 4, 0]);
    assert.deepEqual(plan.checkOf, [0, 1, 2, -1]);
    assert.equal(planDecision(book, { domain: "edge", hits_addend: 3, descriptors: [{ entries: [{ key: "user", value: "a" }] }] }).checks[0]?.cost, 3);
  });

  const refusals = [
    { name: "no domain", request: { descriptors: [{ entries: [{ key: "user", value: "a" }] }] }, message: /domain is required/ },
    { name: "an unknown domain", request: { domain: "nope", descriptors: [] }, message: /no policy named "nope"; configured policies: edge/ },
    { name: "a descriptor without entries", request: { domain: "edge", descriptors: [{ entries: [] }] }, message: /descriptors\[0\]\.entries: at least one entry/ },
    { name: "too many descriptors", request: { domain: "edge", descriptors: Array.from({ length: RLS_BOUNDS.maxDescriptors + 1 }, () => ({ entries: [{ key: "user", value: "a" }] })) }, message: /at most 64 descriptors/ },
    { name: "a value too long", request: { domain: "edge", descriptors: [{ entries: [{ key: "user", value: "v".repeat(RLS_BOUNDS.maxValueLength + 1) }] }] }, message: /entries\[0\]\.value: at most 1024/ },
    { name: "too many hits", request: { domain: "edge", hits_addend: RLS_BOUNDS.maxHits + 1, descriptors: [{ entries: [{ key: "user", value: "a" }] }] }, message: /hits_addend: at most/ },
  ];
  for (const { name, request, message } of refusals) {
    it(`refuses ${name}, saying which field`, () => {
      assert.throws(() => planDecision(book, request), (error: unknown) => error instanceof InvalidRateLimitRequest && message.test(error.message));
    });
  }

  it("marks an unknown domain apart from other refusals (NOT_FOUND rather than INVALID_ARGUMENT)", () => {
    const unknown = (() => { try { planDecision(book, { domain: "nope" }); } catch (e) { return e; } })() as InvalidRateLimitRequest;
    assert.equal(unknown.unknownDomain, true);
  });
});

describe("responseFor", () => {
  const plan = planDecision(book, { domain: "edge", descriptors: [{ entries: [{ key: "user", value: "a" }] }, { entries: [{ key: "watched", value: "a" }] }] });
  const [user, watched] = plan.checks.map((c) => c.policy) as [Policy, Policy];
  const now = 1_000_000;

  it("reports a shadow limit's denial as OK: it is watched, never enforced", () => {
    const verdict: Verdict = {
      allowed: true,
      now,
      decisions: [
        { policy: user, allowed: true, limit: 10, remaining: 9, resetAt: now + 60_000 },
        { policy: watched, allowed: false, limit: 1, remaining: 0, resetAt: now + 30_000, retryAfterMs: 30_000 },
      ],
    };
    const response = responseFor(plan, verdict);
    assert.equal(response.overall_code, "OK");
    assert.deepEqual(response.statuses.map((s) => s.code), ["OK", "OK"]);
    assert.deepEqual(response.statuses[1]?.duration_until_reset, { seconds: 30, nanos: 0 });
  });

  it("states the time until reset in whole milliseconds, rounded up, when the limit's pace is not", () => {
    const verdict: Verdict = { allowed: true, now, decisions: [{ policy: user, allowed: true, limit: 7, remaining: 6, resetAt: now + 60_000 / 7 }] };
    const response = responseFor(planDecision(book, { domain: "edge", descriptors: [{ entries: [{ key: "user", value: "a" }] }] }), verdict);
    assert.deepEqual(response.statuses[0]?.duration_until_reset, { seconds: 8, nanos: 572_000_000 });
  });

  it("reads the statuses of a cached denial from the state read, over where fewer units remain than it costs", () => {
    const cached: Verdict = { allowed: false, now, via: "over-limit-cache", decisions: [{ policy: user, allowed: false, limit: 10, remaining: 0, resetAt: now + 1_500, retryAfterMs: 1_500 }] };
    const read: Verdict = {
      allowed: true,
      now: now + 1,
      decisions: [
        { policy: user, allowed: true, limit: 10, remaining: 0, resetAt: now + 1_501 },
        { policy: watched, allowed: true, limit: 1, remaining: 1, resetAt: now + 1 },
      ],
    };
    const response = responseFor(plan, cached, read);
    assert.equal(response.overall_code, "OVER_LIMIT");
    assert.deepEqual(response.statuses.map((s) => [s.code, s.limit_remaining]), [["OVER_LIMIT", 0], ["OK", 1]]);
    assert.deepEqual(response.statuses[0]?.duration_until_reset, { seconds: 1, nanos: 500_000_000 });
  });
});

describe("a descriptor's limit override", () => {
  const entries = [{ key: "user", value: "u1" }];

  it("is counted as Envoy's reference service counts it: fixed windows on the clock, the rule's store-failure mode, a key of its own per unit", () => {
    const plan = planDecision(book, { domain: "edge", descriptors: [{ entries, limit: { requests_per_unit: 3, unit: "DAY" } }] });
    const [check] = plan.checks;
    assert.deepEqual(check?.policy, { name: "edge:override", algorithm: "fixed-window", align: "clock", limit: 3, windowMs: 86_400_000, onStoreFailure: "open" });
    assert.equal(check?.key, "svc-policy:edge:override-day:fixed-window|user=u1");
    assert.deepEqual(plan.overrideUnits, ["DAY"]);
    const month = planDecision(book, { domain: "edge", descriptors: [{ entries, limit: { requests_per_unit: 3, unit: "MONTH" } }] });
    assert.notEqual(month.checks[0]?.key, check?.key, "another unit starts another counter");
    assert.equal(month.checks[0]?.policy.windowMs, 30 * 86_400_000);
  });

  it("applies to a rule without a limit and to a descriptor no rule matches, and never shadows", () => {
    for (const descriptor of [[{ key: "free", value: "x" }], [{ key: "nobody", value: "x" }], [{ key: "watched", value: "x" }]]) {
      const plan = planDecision(book, { domain: "edge", descriptors: [{ entries: descriptor, limit: { requests_per_unit: 1, unit: "SECOND" } }] });
      assert.equal(plan.checks.length, 1);
      assert.equal(plan.checks[0]?.policy.shadow, undefined);
    }
  });

  it("is refused, never ignored, without a unit Sluice knows or with 0 requests per unit", () => {
    for (const limit of [{ requests_per_unit: 3 }, { requests_per_unit: 3, unit: "UNKNOWN" }, { requests_per_unit: 3, unit: 7 }, { unit: "SECOND" }, { requests_per_unit: 0, unit: "SECOND" }]) {
      assert.throws(() => planDecision(book, { domain: "edge", descriptors: [{ entries, limit }] }), (error: unknown) => error instanceof InvalidRateLimitRequest && error.message.startsWith("descriptors[0].limit."));
    }
  });
});
