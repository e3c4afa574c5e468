/**
 * What the parts of Sluice report for the metrics to count, declared here, beside the metrics
 * that implement them (metrics.ts), so a part that reports imports down, never up: the failover
 * store's outages and late replies, the upstream targets' health, and the planes the load
 * shedder refuses requests on.
 */

/**
 * What the failover store (stores/failoverStore.ts) tells whoever watches it; metrics.ts turns it
 * into Prometheus series.
 *
 * @example
 * new FailoverStore({ primary, fallback, timeoutMs: 50, logger, observer: metrics.storeObserver });
 */
export interface StoreObserver {
  /** A decision call to the primary answered or failed after `seconds` (a timed-out one at the deadline). */
  storeCall(seconds: number): void;
  /** A decision call failed: its deadline passed ("timeout") or the store refused it ("error"). */
  storeFailure(kind: "timeout" | "error"): void;
  /**
   * A reply that missed its deadline came after all: its charge was given back ("refunded"),
   * stands for an admitted caller ("kept"), or the store had refused a caller the failure modes
   * admitted ("over-admitted"), or there was nothing to settle ("none").
   */
  lateReply(effect: LateEffect): void;
  /** The breaker opened: at start-up, or after failures without an answer for a deadline's length. */
  outageBegan(): void;
  /** The breaker closed after `seconds`. */
  outageEnded(seconds: number): void;
}

export type LateEffect = "refunded" | "kept" | "over-admitted" | "none";

/** Where the load shedder (edge/loadShedder.ts) refuses requests: the gateway, POST /v1/ratelimit, gRPC. */
export const SHED_PLANES = ["gateway", "service", "grpc"] as const;
export type ShedPlane = (typeof SHED_PLANES)[number];

/** One upstream target's reading for `sluice_upstream_healthy` (gateway/upstream/upstreamHealth.ts). */
export interface UpstreamHealth {
  readonly service: string;
  /** The target's origin, e.g. "http://10.0.0.7:9000" (never credentials). */
  readonly target: string;
  readonly healthy: 0 | 1;
}
