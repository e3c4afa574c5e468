/**
 * What one limit did with one request or call: the `outcome` label of the limiter's and the
 * rate-limit service's decision series (metrics.ts, serviceMetrics.ts).
 */
import type { Decision } from "../limiter/decision.js";

/** What one limit did with one request, the `outcome` label of `sluice_limiter_decisions_total`. */
export const LIMITER_OUTCOMES = ["allowed", "limited", "shadow_limited", "store_failure_open", "store_failure_closed", "store_failure_local"] as const;
export type LimiterOutcome = (typeof LIMITER_OUTCOMES)[number];

/** What one limit did with a request; `failed`: the verdict came from the failure modes (the store failed). */
export function decisionOutcome(decision: Decision, failed: boolean): LimiterOutcome {
  if (failed) {
    if (decision.reason === "store-unavailable") return "store_failure_closed";
    return decision.policy.onStoreFailure === "local" ? "store_failure_local" : "store_failure_open";
  }
  if (decision.allowed) return "allowed";
  return decision.policy.shadow === true ? "shadow_limited" : "limited";
}

