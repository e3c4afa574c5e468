/** The algorithm registry: policy.algorithm → its pure implementation. */
import type { Algorithm } from "../algorithm.js";
import type { Policy } from "../policy.js";
import { concurrency } from "./concurrency/concurrency.js";
import { fixedWindow } from "./fixedWindow/fixedWindow.js";
import { gcra } from "./gcra/gcra.js";
import { slidingWindowCounter } from "./slidingWindowCounter/slidingWindowCounter.js";
import { slidingWindowLog } from "./slidingWindowLog/slidingWindowLog.js";
import { tokenBucket } from "./tokenBucket/tokenBucket.js";

export { concurrency, fixedWindow, gcra, slidingWindowCounter, slidingWindowLog, tokenBucket };

const registry = {
  "gcra": gcra,
  "token-bucket": tokenBucket,
  "sliding-window-log": slidingWindowLog,
  "sliding-window-counter": slidingWindowCounter,
  "fixed-window": fixedWindow,
  "concurrency": concurrency,
} as const satisfies { [A in Policy["algorithm"]]: { readonly name: A } };

/** The algorithm of a policy, typed for callers that hold any policy and opaque state. */
export function algorithmOf(policy: Policy): Algorithm<unknown> {
  return registry[policy.algorithm];
}
