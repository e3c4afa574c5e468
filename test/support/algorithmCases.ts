/**
 * Every registered algorithm as the store tests see it: a policy of 3 units per second with what
 * it promises at its edges (the store conformance suite, test/stores/storeSuite.ts), and its own
 * policy fields at random (the random histories, ./storeHistories.ts). TypeScript asks for a row
 * per algorithm of the Policy union, so a new algorithm is in every store test once it has one.
 *
 * The edges, for a fresh key that takes 3 units at T0 (a whole second since the epoch, so clock
 * windows start there): the 4th unit is refused with `refused.retryAfterMs` to wait and a reset
 * `refused.resetAfterMs` after T0, and the key is whole again `wholeAfterMs` after T0.
 */
import fc from "fast-check";
import type { AlgorithmName, Policy } from "../../src/limiter/policy.js";

type PolicyOf<A extends AlgorithmName> = Extract<Policy, { readonly algorithm: A }>;

export interface AlgorithmCase<A extends AlgorithmName = AlgorithmName> {
  /** 3 units per 1000 ms, and 3 at once. */
  readonly policy: PolicyOf<A>;
  readonly refused: { readonly retryAfterMs: number; readonly resetAfterMs: number };
  readonly wholeAfterMs: number;
  /** The algorithm and its own fields, at random. */
  readonly shape: fc.Arbitrary<Omit<PolicyOf<A>, "name" | "limit" | "windowMs">>;
}

export const T0 = 1_700_000_000_000;

export const ALGORITHM_CASES: { readonly [A in AlgorithmName]: AlgorithmCase<A> } = {
  "gcra": {
    policy: { name: "gcra", algorithm: "gcra", limit: 3, windowMs: 1000 },
    refused: { retryAfterMs: 1000 / 3, resetAfterMs: 1000 },
    wholeAfterMs: 1000,
    shape: fc.record({ algorithm: fc.constant("gcra"), burst: fc.integer({ min: 1, max: 6 }) }),
  },
  "token-bucket": {
    policy: { name: "token-bucket", algorithm: "token-bucket", limit: 3, windowMs: 1000, capacity: 3 },
    refused: { retryAfterMs: 1000 / 3, resetAfterMs: 1000 },
    wholeAfterMs: 1000,
    shape: fc.record({ algorithm: fc.constant("token-bucket"), capacity: fc.integer({ min: 1, max: 6 }) }),
  },
  "sliding-window-log": {
    policy: { name: "sliding-window-log", algorithm: "sliding-window-log", limit: 3, windowMs: 1000 },
    refused: { retryAfterMs: 1000, resetAfterMs: 1000 },
    wholeAfterMs: 1000,
    shape: fc.record({ algorithm: fc.constant("sliding-window-log") }),
  },
  "sliding-window-counter": {
    // Refused at T0: the next window, once a third of this one's count has slid out (ceil(333.3) ms).
    policy: { name: "sliding-window-counter", algorithm: "sliding-window-counter", limit: 3, windowMs: 1000 },
    refused: { retryAfterMs: 1334, resetAfterMs: 2000 },
    wholeAfterMs: 2000,
    shape: fc.record({ algorithm: fc.constant("sliding-window-counter") }),
  },
  "fixed-window": {
    policy: { name: "fixed-window", algorithm: "fixed-window", limit: 3, windowMs: 1000 },
    refused: { retryAfterMs: 1000, resetAfterMs: 1000 },
    wholeAfterMs: 1000,
    shape: fc.record({ algorithm: fc.constant("fixed-window"), align: fc.constantFrom("clock" as const, "first-request" as const) }),
  },
  "concurrency": {
    // Leases live a window; a refusal is told to try again in a second.
    policy: { name: "concurrency", algorithm: "concurrency", limit: 3, windowMs: 1000 },
    refused: { retryAfterMs: 1000, resetAfterMs: 1000 },
    wholeAfterMs: 1000,
    shape: fc.record({ algorithm: fc.constant("concurrency") }),
  },
};
