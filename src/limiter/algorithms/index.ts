/**
 * The algorithm registry: each algorithm's name, its Redis code, its pure implementation and its
 * Lua (./registration.ts says what an entry holds). Everything that lists the algorithms derives
 * from it: ALGORITHM_NAMES (the config's choices), the memory store's lookup, the Redis store's
 * keys, arguments and scripts. TypeScript refuses a Policy (../policy.ts) without an entry here.
 *
 * Its order is the order of ALGORITHM_NAMES (as docs/config.md lists them) and the order in
 * which the Redis scripts test the codes.
 */
import type { Algorithm } from "../algorithm.js";
import type { AlgorithmName, Policy } from "../policy.js";
import { concurrency } from "./concurrency/concurrency.js";
import { concurrencyLua } from "./concurrency/concurrencyLua.js";
import { fixedWindow } from "./fixedWindow/fixedWindow.js";
import { fixedWindowLua } from "./fixedWindow/fixedWindowLua.js";
import { gcra } from "./gcra/gcra.js";
import { gcraLua } from "./gcra/gcraLua.js";
import type { Registration } from "./registration.js";
import { slidingWindowCounter } from "./slidingWindowCounter/slidingWindowCounter.js";
import { slidingWindowCounterLua } from "./slidingWindowCounter/slidingWindowCounterLua.js";
import { slidingWindowLog } from "./slidingWindowLog/slidingWindowLog.js";
import { slidingWindowLogLua } from "./slidingWindowLog/slidingWindowLogLua.js";
import { tokenBucket } from "./tokenBucket/tokenBucket.js";
import { tokenBucketLua } from "./tokenBucket/tokenBucketLua.js";

export { concurrency, fixedWindow, gcra, slidingWindowCounter, slidingWindowLog, tokenBucket };
export type { AlgorithmLua } from "./registration.js";

const REGISTRY = {
  "gcra": { code: "g", algorithm: gcra, lua: gcraLua },
  "token-bucket": { code: "t", algorithm: tokenBucket, lua: tokenBucketLua },
  "sliding-window-log": { code: "l", algorithm: slidingWindowLog, lua: slidingWindowLogLua },
  "sliding-window-counter": { code: "c", algorithm: slidingWindowCounter, lua: slidingWindowCounterLua },
  "fixed-window": { code: "f", algorithm: fixedWindow, lua: fixedWindowLua },
  "concurrency": { code: "x", algorithm: concurrency, lua: concurrencyLua },
} as const satisfies { readonly [A in AlgorithmName]: Registration<Extract<Policy, { readonly algorithm: A }>> };

/** The algorithms the engine implements, in registry order. */
export const ALGORITHM_NAMES = Object.keys(REGISTRY) as [AlgorithmName, ...AlgorithmName[]];

/** Every registration with its name, in registry order. */
export const REGISTRATIONS: readonly (Registration & { readonly name: AlgorithmName })[] = ALGORITHM_NAMES.map((name) => ({ name, ...REGISTRY[name] }));

export function registrationOf(name: AlgorithmName): Registration {
  return REGISTRY[name];
}

const ALGORITHMS = Object.fromEntries(REGISTRATIONS.map((r) => [r.name, r.algorithm])) as { readonly [A in AlgorithmName]: Algorithm<unknown> };

/** The algorithm of a policy, typed for callers that hold any policy and opaque state. */
export function algorithmOf(policy: Policy): Algorithm<unknown> {
  return ALGORITHMS[policy.algorithm];
}
