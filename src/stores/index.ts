/**
 * The in-process limiter store as a library (`sluice/stores`): the limiter's algorithms
 * (`sluice/limiter`) applied to state held in a Map, with an injected clock.
 *
 * @example
 *   const store = new MemoryStore();
 *   const policy = { name: "api", algorithm: "gcra", limit: 10, windowMs: 1000 } as const;
 *   const verdict = store.consume([{ key: "api|user-42", policy, cost: 1 }]);
 */
export { MemoryStore, type MemoryStoreOptions } from "./memoryStore.js";
export type { RateLimitStore } from "./store.js";
export type { Clock } from "../limits/clock.js";
