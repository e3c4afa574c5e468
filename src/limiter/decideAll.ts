/**
 * Several limits, one answer: a request is admitted only if every limit admits it, and a denied
 * request consumes nothing from any limit. Pure, so every store applies exactly these semantics:
 * the memory store calls it, and a shared store (Redis, next) must mirror it atomically.
 */
import type { Outcome } from "./algorithm.js";
import { algorithms } from "./algorithms/index.js";
import type { Decision, Verdict } from "./decision.js";
import type { LimitCheck } from "./policy.js";

export interface DecideAllResult {
  readonly verdict: Verdict;
  /** The states to store, one per check, when the verdict admits the request; otherwise undefined. */
  readonly writes: readonly Outcome<unknown>[] | undefined;
}

export function decideAll(states: readonly unknown[], checks: readonly LimitCheck[], now: number): DecideAllResult {
  const outcomes = new Array<Outcome<unknown>>(checks.length);
  let allowed = true;
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as LimitCheck;
    const outcome = algorithms[check.policy.algorithm].decide(states[i], check.policy, now, check.cost);
    outcomes[i] = outcome;
    if (!outcome.decision.allowed) allowed = false;
  }
  if (allowed) return { verdict: { allowed, decisions: outcomes.map((o) => o.decision), now }, writes: outcomes };

  // Denied: the limits that would have admitted the request report their untouched state instead.
  const decisions: Decision[] = outcomes.map((outcome, i) => {
    if (!outcome.decision.allowed) return outcome.decision;
    const check = checks[i] as LimitCheck;
    return algorithms[check.policy.algorithm].decide(states[i], check.policy, now, 0).decision;
  });
  return { verdict: { allowed, decisions, now }, writes: undefined };
}
