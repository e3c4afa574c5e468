/**
 * Random request histories for holding two stores to the same decisions (fast-check): a small
 * random policy of any algorithm, a history of gaps and two costs per step, and the view of a
 * verdict both stores must agree on. The Redis store's tests (single server and Cluster) use it.
 */
import fc from "fast-check";
import type { Verdict } from "../../src/limiter/decision.js";
import type { Policy } from "../../src/limiter/policy.js";

export const randomPolicy = fc.oneof(
  fc.record({ algorithm: fc.constant("gcra" as const), burst: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ algorithm: fc.constant("token-bucket" as const), capacity: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ algorithm: fc.constant("sliding-window-log" as const) }),
  fc.record({ algorithm: fc.constant("sliding-window-counter" as const) }),
  fc.record({ algorithm: fc.constant("fixed-window" as const), align: fc.constantFrom("clock" as const, "first-request" as const) }),
  fc.record({ algorithm: fc.constant("concurrency" as const) }),
).chain((shape) => fc.record({
  limit: fc.integer({ min: 1, max: 5 }),
  windowMs: fc.integer({ min: 1, max: 10 }).map((n) => n * 100),
  shadow: fc.boolean(),
}).map((size): Policy => ({ name: shape.algorithm, ...size, ...shape })));

/** Up to `maxLength` steps: ms since the previous one, and the cost for each of two limits. */
export function randomHistory(maxLength: number) {
  return fc.array(fc.record({
    gap: fc.integer({ min: 0, max: 300 }),
    costs: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
  }), { minLength: 1, maxLength });
}

/** What two stores must agree on: everything but the policy object itself. */
export const comparable = (verdict: Verdict) => ({ ...verdict, decisions: verdict.decisions.map(({ policy: _, ...d }) => d) });
