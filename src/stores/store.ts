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
  /** Decisions asked and not yet answered (a shared store): queued work, for the load shedder. */
  readonly pending?: number;
  close(): Promise<void>;
}


/**
 * A store many gateways share (Redis). It can fail, so the failover store stands in front of it:
 * its `consume` rejects when the store cannot decide, a `StoreTimeout` when the store has not
 * answered within the deadline, measured from when the call left this process.
 */
export interface SharedStore extends RateLimitStore {
  consume(checks: readonly LimitCheck[]): Promise<Verdict>;
  /** Resolves when the store answers a trivial call within its deadline; rejects otherwise. */
  probe(): Promise<void>;
  /** Gives back what a decision made at `at` (the store's clock) charged to `checks`. */
  refund(checks: readonly LimitCheck[], at: number): Promise<void>;
  readonly pending: number;
}

/** What a decision that missed its deadline did once the store ran it. */
export interface LateOutcome {
  readonly verdict: Verdict;
  /** The checks it charged (admitted, with a cost): what a refund gives back. */
  readonly charged: readonly LimitCheck[];
}

/**
 * The store has not answered a decision within its deadline. Its call may still run: `late`
 * resolves with what it did if the reply comes after all, or undefined if it never does (the
 * connection closed, or the client gave up), when whether it ran cannot be known.
 */
export class StoreTimeout extends Error {
  readonly code = "SLUICE_ERR_STORE_TIMEOUT";
  constructor(
    readonly timeoutMs: number,
    readonly late: Promise<LateOutcome | undefined>,
  ) {
    super(`the limiter store did not answer within ${timeoutMs} ms`);
    this.name = "StoreTimeout";
  }
}
