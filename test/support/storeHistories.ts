/**
 * Random request histories for holding two stores to the same decisions (fast-check): a small
 * random policy of any registered algorithm (its own fields from ./algorithmCases.ts), a history
 * of gaps and two costs per step, and the view of a verdict both stores must agree on. The Redis
 * store's tests (single server and Cluster) use it.
 */
import fc from "fast-check";
import { ALGORITHM_NAMES } from "../../src/limiter/algorithms/index.js";
import type { Verdict } from "../../src/limiter/decision.js";
import type { Policy } from "../../src/limiter/policy.js";
import { ALGORITHM_CASES } from "./algorithmCases.js";

export const randomPolicy = fc.oneof(...ALGORITHM_NAMES.map((name) => ALGORITHM_CASES[name].shape)).chain((shape) => fc.record({
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
