/**
 * What a limit promises: an algorithm and how many units it admits per window.
 * Policies are plain data; the config loader builds them and every store reads them.
 */

/** The algorithms the engine implements; each has a pure `decide` in `./algorithms/`. */
export const ALGORITHM_NAMES = ["gcra", "sliding-window-log", "fixed-window"] as const;
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

export interface Policy {
  /** Stable name, shown in `RateLimit-Policy` and used as the first part of every key. */
  readonly name: string;
  readonly algorithm: AlgorithmName;
  /** Units admitted per window. */
  readonly limit: number;
  readonly windowMs: number;
  /** GCRA only: how many units may arrive at once (bucket capacity). Defaults to `limit`. */
  readonly burst?: number;
}

/** One limit to apply to one request: which counter (`key`), under which policy, for how many units. */
export interface LimitCheck {
  readonly key: string;
  readonly policy: Policy;
  readonly cost: number;
}
