/**
 * Sluice's limiter as a library (`sluice/limiter`): pure algorithms, the all-or-nothing
 * combinator and the headers, and nothing else (the stores that hold their state are
 * `sluice/stores`). The gateway and the rate-limit service build on exactly these exports.
 *
 * @example
 *   const policy = { name: "api", algorithm: "gcra", limit: 10, windowMs: 1000 } as const;
 *   const { verdict, writes } = decideAll([undefined], [{ key: "api|user-42", policy, cost: 1 }], Date.now());
 */
export type { Algorithm, Outcome } from "./algorithm.js";
export { ALGORITHM_NAMES, algorithmOf, concurrency, fixedWindow, gcra, slidingWindowCounter, slidingWindowLog, tokenBucket } from "./algorithms/index.js";
export type { Decision, Verdict } from "./decision.js";
export { decideAll } from "./decideAll.js";
export { bindingDecision, rateLimitHeader, rateLimitPolicyHeader, retryAfterSeconds } from "./headers.js";
export * from "./policy.js";
