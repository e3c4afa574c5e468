/**
 * What the parts of Sluice report for the metrics to count, declared here, beside the metrics
 * that implement them (metrics.ts), so a part that reports imports down, never up: the failover
 * store's outages and late replies, the upstream targets' health, the planes the load
 * shedder refuses requests on, and the rate-limit service's calls.
 */
import type { Verdict } from "../limiter/decision.js";
import type { LimitCheck } from "../limiter/policy.js";

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

/** How the rate-limit service was asked: `POST /v1/ratelimit*` or Envoy's ShouldRateLimit. */
export const RATELIMIT_PROTOCOLS = ["http", "grpc"] as const;
export type RatelimitProtocol = (typeof RATELIMIT_PROTOCOLS)[number];

/** Why a caller's token was refused: none sent (where one is needed), one Sluice does not know, one without the right, one whose scope does not cover the call. */
export const TOKEN_FAILURES = ["missing", "unknown", "no_right", "out_of_scope"] as const;
export type TokenFailure = (typeof TOKEN_FAILURES)[number];

/** What one check of a rate-limit call is about: a named policy, or an ad-hoc limit's namespace. */
export type RatelimitSubject = { readonly policy: string } | { readonly namespace: string };

/**
 * What the rate-limit service (src/service/) tells whoever watches it; serviceMetrics.ts turns
 * it into Prometheus series.
 *
 * @example
 * observer.decided("grpc", subjects, plan.checks, verdict);
 * observer.answered("grpc", "OK", 0.0004);
 */
export interface RatelimitObserver {
  /** The store's verdict on a call's checks; `subjects[i]` is what `checks[i]` is about. */
  decided(protocol: RatelimitProtocol, subjects: readonly RatelimitSubject[], checks: readonly LimitCheck[], verdict: Verdict): void;
  /** A call was answered with `status` (the HTTP status, or the gRPC code's name) after `seconds`. */
  answered(protocol: RatelimitProtocol, status: string, seconds: number): void;
  /** A call was refused for its token. */
  tokenRefused(protocol: RatelimitProtocol, reason: TokenFailure): void;
}
