/**
 * What a limit promises: an algorithm and its parameters. Policies are plain data; the config
 * loader builds them and every store reads them. Each algorithm has its own shape, so a field
 * that means nothing to an algorithm (a burst on a fixed window) cannot be written.
 */

/** What a shared store's limit does when the store cannot answer in time; see docs/redis.md. */
export const FAILURE_MODES = ["open", "closed", "local"] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

interface PolicyBase {
  /** Stable name, shown in `RateLimit-Policy` and used as the first part of every key. */
  readonly name: string;
  /** Units admitted per window (for `concurrency`: units in flight at once). */
  readonly limit: number;
  /** The window (for `concurrency`: how long a lease lives if it is never released). */
  readonly windowMs: number;
  /** Evaluated and reported, never enforced: a new limit can be watched before it bites. */
  readonly shadow?: boolean;
  /** When a shared store fails; default `open`. The memory store never fails. */
  readonly onStoreFailure?: FailureMode;
}

export interface GcraPolicy extends PolicyBase {
  readonly algorithm: "gcra";
  /** Units that may arrive at once (bucket capacity); defaults to `limit`. */
  readonly burst?: number;
}

export interface TokenBucketPolicy extends PolicyBase {
  readonly algorithm: "token-bucket";
  /** Tokens the bucket holds; a full bucket admits this many at once. `limit` tokens refill per window. */
  readonly capacity: number;
}

export interface SlidingWindowLogPolicy extends PolicyBase {
  readonly algorithm: "sliding-window-log";
}

export interface SlidingWindowCounterPolicy extends PolicyBase {
  readonly algorithm: "sliding-window-counter";
}

export interface FixedWindowPolicy extends PolicyBase {
  readonly algorithm: "fixed-window";
  /**
   * `first-request` (default): each key's window starts at its first request, so a client that
   * spends its limit is locked out for the rest of its own window. `clock`: windows start at
   * multiples of the window since the epoch (a daily quota resets at 00:00 UTC for everyone).
   */
  readonly align?: "first-request" | "clock";
}

export interface ConcurrencyPolicy extends PolicyBase {
  readonly algorithm: "concurrency";
}

/**
 * Every algorithm's policy. Each has an entry in the registry (./algorithms/index.ts, which
 * TypeScript holds to this union), from which ALGORITHM_NAMES comes.
 */
export type Policy = GcraPolicy | TokenBucketPolicy | SlidingWindowLogPolicy | SlidingWindowCounterPolicy | FixedWindowPolicy | ConcurrencyPolicy;
export type AlgorithmName = Policy["algorithm"];

/** One limit to apply to one request: which counter (`key`), under which policy, for how many units. */
export interface LimitCheck {
  readonly key: string;
  readonly policy: Policy;
  readonly cost: number;
  /** Concurrency limits only: names the lease, so the same request can release it when it ends. */
  readonly lease?: string;
}

/** A concurrency lease to give back when its request ends. */
export interface LeaseRelease {
  readonly key: string;
  readonly policy: ConcurrencyPolicy;
  readonly lease: string;
  /** The cost the lease was taken with. */
  readonly units: number;
}

/** Most units a policy admits at once: the size a single request's cost may not exceed. */
export function capacityOf(policy: Policy): number {
  switch (policy.algorithm) {
    case "gcra": return policy.burst ?? policy.limit;
    case "token-bucket": return policy.capacity;
    default: return policy.limit;
  }
}
