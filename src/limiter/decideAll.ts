/**
 * Several limits, one answer: a request is admitted only if every enforced limit admits it, and
 * a denied request consumes nothing from any limit. Shadow limits are decided and reported but
 * never refuse; they count what they would have admitted. Pure, so every store applies exactly
 * these semantics: the memory store calls it, and the Redis script mirrors it atomically.
 */
import type { Outcome } from "./algorithm.js";
import { algorithmOf } from "./algorithms/index.js";
import type { Decision, Verdict } from "./decision.js";
import type { LimitCheck } from "./policy.js";

export interface DecideAllResult {
  readonly verdict: Verdict;
  /**
   * When the verdict admits the request: per check, the state to store, or undefined when the
   * check changes nothing (a refusing shadow limit). Undefined as a whole when refused.
   */
  readonly writes: readonly (Outcome<unknown> | undefined)[] | undefined;
}

export function decideAll(states: readonly unknown[], checks: readonly LimitCheck[], now: number): DecideAllResult {
  const outcomes = new Array<Outcome<unknown>>(checks.length);
  let allowed = true;
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as LimitCheck;
    const outcome = algorithmOf(check.policy).decide(states[i], check.policy, now, check.cost, check.lease);
    outcomes[i] = outcome;
    if (!outcome.decision.allowed && check.policy.shadow !== true) allowed = false;
  }
  if (allowed) {
    const writes = outcomes.map((o) => (o.decision.allowed ? o : undefined));
    return { verdict: { allowed, decisions: outcomes.map((o) => o.decision), now }, writes };
  }

  // Denied: the limits that would have admitted the request report their untouched state instead.
  const decisions: Decision[] = outcomes.map((outcome, i) => {
    if (!outcome.decision.allowed) return outcome.decision;
    const check = checks[i] as LimitCheck;
    return algorithmOf(check.policy).decide(states[i], check.policy, now, 0).decision;
  });
  return { verdict: { allowed, decisions, now }, writes: undefined };
}
