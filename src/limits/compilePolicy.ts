/**
 * A limit of the config as the limiter runs it: the Policy every store reads, and the limit
 * compiled with its counter key. The gateway's routes and plans and the rate-limit service's named
 * policies all compile their limits here, so one limit means the same everywhere.
 *
 * @example
 * compilePolicy("per-client", { algorithm: "gcra", limit: 10, window: 1000, by: ["consumer"], shadow: false, onStoreFailure: "open" })
 * // → { name: "per-client", algorithm: "gcra", limit: 10, windowMs: 1000, onStoreFailure: "open" }
 */
import type { LimitConfig } from "../config/schema.js";
import type { Policy } from "../limiter/policy.js";
import type { LimitKey } from "./limitKeys.js";

/** A limit ready for requests: its policy, and how to build its counter key for one. */
export interface CompiledLimit {
  readonly policy: Policy;
  readonly key: LimitKey;
}

/** How long a concurrency lease lives when its request never gives it back (config: `window`, default). */
const DEFAULT_LEASE_MS = 60_000;

export function compilePolicy(name: string, limit: LimitConfig): Policy {
  const common = {
    name,
    limit: limit.limit,
    windowMs: limit.window ?? DEFAULT_LEASE_MS,
    ...(limit.shadow && { shadow: true }),
    onStoreFailure: limit.onStoreFailure,
  };
  switch (limit.algorithm) {
    case "gcra": return { ...common, algorithm: "gcra", ...(limit.burst !== undefined && { burst: limit.burst }) };
    case "token-bucket": return { ...common, algorithm: "token-bucket", capacity: limit.capacity ?? limit.limit };
    case "fixed-window": return { ...common, algorithm: "fixed-window", ...(limit.align !== undefined && { align: limit.align }) };
    default: return { ...common, algorithm: limit.algorithm };
  }
}
