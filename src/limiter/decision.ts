/**
 * Decisions are data: a denied request is an answer, never an exception.
 * Only broken infrastructure (a store that cannot be reached) throws.
 */
import type { Policy } from "./policy.js";

export interface Decision {
  readonly policy: Policy;
  readonly allowed: boolean;
  readonly limit: number;
  /** Units still available: after this request when admitted, as they stand when denied. */
  readonly remaining: number;
  /** Epoch ms at which the limit is whole again if nothing more arrives. */
  readonly resetAt: number;
  /** When denied: ms to wait before the same request would be admitted. */
  readonly retryAfterMs?: number;
  /** When denied for a reason other than "over the limit". */
  readonly reason?: "cost-exceeds-limit" | "store-unavailable";
}

/** The answer for a request under several limits: admitted only when every limit admits it. */
export interface Verdict {
  readonly allowed: boolean;
  readonly decisions: readonly Decision[];
  /** The clock reading the decisions were made at (the store's clock, which may not be ours). */
  readonly now: number;
  /**
   * How the verdict was reached when not by the store alone: from the over-limit cache (its
   * decisions are only the denials it remembers), or by the limits' failure modes because the
   * store did not answer in time.
   */
  readonly via?: "over-limit-cache" | "store-failure";
}
