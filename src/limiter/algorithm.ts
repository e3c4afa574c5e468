/**
 * The contract every algorithm meets: a pure function of (state, policy, now, cost).
 * No I/O and no clock: the store supplies `now`, so every store (memory today, Redis next) shares
 * one behaviour.
 */
import type { Decision } from "./decision.js";
import type { AlgorithmName, Policy } from "./policy.js";

export interface Outcome<S> {
  readonly decision: Decision;
  /** The state to store if the request is admitted; stores discard it on denial. */
  readonly state: S;
  /** Epoch ms after which `state` carries no information and may be dropped. */
  readonly expiresAt: number;
}

export interface Algorithm<S> {
  readonly name: AlgorithmName;
  /** Decides `cost` units at `now`. A cost of 0 peeks: it reports the current state, consuming nothing. */
  decide(state: S | undefined, policy: Policy, now: number, cost: number): Outcome<S>;
}

/** Remaining-unit arithmetic on fractional emission intervals must not lose a unit to 0.999…. */
export const EPSILON = 1e-9;
