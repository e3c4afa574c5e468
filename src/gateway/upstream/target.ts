/**
 * One upstream target of a service: its URL, its keep-alive pool (undici), the requests it has
 * in flight (for least-in-flight balancing), what the active health check last concluded, and
 * its circuit breaker (passive ejection). `health` is the read-only view the metrics and the
 * admin API show.
 */
import { Pool } from "undici";
import type { Clock } from "../../limits/clock.js";
import { CircuitBreaker, type CircuitBreakerSettings } from "./circuitBreaker.js";

export interface TargetTimeouts {
  readonly connectMs: number;
  /** Longest wait for the response headers. */
  readonly headersMs: number;
  /** Longest silence between two chunks of the response body (0: none). */
  readonly bodyIdleMs: number;
}

/**
 * healthy: takes requests; unhealthy: the active health check failed it; ejected: its breaker
 * is open; probing: its breaker lets one request through to see whether it recovered.
 */
export type TargetHealthState = "healthy" | "unhealthy" | "ejected" | "probing";

export interface TargetHealth {
  readonly url: string;
  readonly state: TargetHealthState;
  readonly inFlight: number;
}

export class UpstreamTarget {
  readonly pool: Pool;
  inFlight = 0;
  /** The active health check's verdict; true until a check says otherwise (or when none is configured). */
  checkedHealthy = true;
  readonly breaker: CircuitBreaker;

  constructor(
    readonly url: URL,
    timeouts: TargetTimeouts,
    breaker: CircuitBreakerSettings,
    now: Clock,
  ) {
    this.pool = new Pool(url.origin, {
      connections: 256,
      keepAliveTimeout: 4_000,
      connectTimeout: timeouts.connectMs,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyIdleMs,
    });
    this.breaker = new CircuitBreaker(breaker, now);
  }

  /** Whether the balancer could pick it now (nothing changes). */
  available(): boolean {
    return this.checkedHealthy && this.breaker.wouldAdmit();
  }

  /** Whether the balancer may pick it now; a half-open breaker admits its one probe here. */
  admits(): boolean {
    return this.checkedHealthy && this.breaker.admits();
  }

  get health(): TargetHealth {
    const breaker = this.breaker.state;
    const state = !this.checkedHealthy ? "unhealthy" : breaker === "closed" ? "healthy" : breaker === "open" ? "ejected" : "probing";
    return { url: this.url.toString(), state, inFlight: this.inFlight };
  }
}
