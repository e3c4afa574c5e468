/**
 * The one contract every limiter store meets. A store owns the clock its decisions use (the
 * memory store an injected one, a shared store its server's), applies `decideAll` atomically,
 * and answers synchronously when it can: the memory store returns a Verdict, not a Promise,
 * so the gateway's hot path pays for no promise per request.
 */
import type { Verdict } from "../limiter/decision.js";
import type { LeaseRelease, LimitCheck } from "../limiter/policy.js";

export interface RateLimitStore {
  /** Decide every check at once; admitted only if all admit, and then all are consumed. */
  consume(checks: readonly LimitCheck[]): Verdict | Promise<Verdict>;
  /** Give back concurrency leases when their requests end. */
  release(leases: readonly LeaseRelease[]): void | Promise<void>;
  /** Forget every counter of `key` (admin reset, tests). */
  reset(key: string): void | Promise<void>;
  /** Resolves true once the store can decide (a shared store has connected), false if it could not in time. */
  ready?(): Promise<boolean>;
  close(): Promise<void>;
}

/** Milliseconds since the epoch; injected so tests move time instead of sleeping. */
export type Clock = () => number;
