/**
 * The contract every algorithm meets: a pure function of (state, policy, now, cost).
 * No I/O and no clock: the store supplies `now`, so every store (memory, Redis) shares one
 * behaviour. The Redis store's Lua script mirrors these functions line for line, and property
 * tests hold the two to the same decisions.
 */
import type { Decision } from "./decision.js";
import type { Policy } from "./policy.js";

export interface Outcome<S> {
  readonly decision: Decision;
  /** The state to store if the request is admitted; stores discard it on denial. */
  readonly state: S;
  /** Epoch ms after which `state` carries no information and may be dropped. */
  readonly expiresAt: number;
}

export interface Algorithm<S, P extends Policy = Policy> {
  readonly name: P["algorithm"];
  /**
   * Decides `cost` units at `now`. A cost of 0 peeks: it reports the current state, consuming
   * nothing. `lease` names what a concurrency limit holds; the other algorithms ignore it.
   */
  decide(state: S | undefined, policy: P, now: number, cost: number, lease?: string): Outcome<S>;
  /** Concurrency only: the state once `lease` is given back. */
  release?(state: S | undefined, policy: P, now: number, lease: string): Outcome<S> | undefined;
}

/** Remaining-unit arithmetic on fractional intervals must not lose a unit to 0.999…. */
export const EPSILON = 1e-9;

/** The refusal every algorithm gives a cost larger than the policy can ever hold at once. */
export function costExceedsCapacity<P extends Policy>(policy: P, remaining: number, resetAt: number): Decision {
  return { policy, allowed: false, limit: policy.limit, remaining, resetAt, retryAfterMs: policy.windowMs, reason: "cost-exceeds-limit" };
}
