/**
 * Sluice's limiter as a library: pure algorithms, the all-or-nothing combinator, headers, and
 * the stores. The gateway, and later the rate-limit service, build on exactly these exports.
 *
 * @example
 *   const store = new MemoryStore();
 *   const policy = { name: "api", algorithm: "gcra", limit: 10, windowMs: 1000 } as const;
 *   const verdict = store.consume([{ key: "api|user-42", policy, cost: 1 }]);
 */
export type { Algorithm, Outcome } from "./algorithm.js";
export { ALGORITHM_NAMES, algorithmOf, concurrency, fixedWindow, gcra, slidingWindowCounter, slidingWindowLog, tokenBucket } from "./algorithms/index.js";
export type { Decision, Verdict } from "./decision.js";
export { decideAll } from "./decideAll.js";
export { bindingDecision, rateLimitHeader, rateLimitPolicyHeader, retryAfterSeconds } from "./headers.js";
export * from "./policy.js";
export { MemoryStore, type MemoryStoreOptions } from "../stores/memoryStore.js";
export type { Clock, RateLimitStore } from "../stores/store.js";
