/**
 * Passive ejection of one upstream target: after `failures` consecutive failed requests the
 * breaker opens and the balancer skips the target for a backoff; when the backoff has passed,
 * exactly one request goes through as a probe (half-open). Its success closes the breaker; its
 * failure opens it again for twice the backoff, up to `maxBackoffMs`. A probe that never reports
 * (its client left first) is replaced by another after a backoff. Time is read from the
 * injected clock, so tests move time instead of sleeping.
 *
 * @example
 * const breaker = new CircuitBreaker({ failures: 5, backoffMs: 5_000, maxBackoffMs: 60_000 }, Date.now);
 * if (breaker.admits()) send(); // then breaker.succeeded() or breaker.failed()
 */
import type { Clock } from "../../limits/clock.js";

export interface CircuitBreakerSettings {
  /** Consecutive failures that open the breaker. */
  readonly failures: number;
  /** How long the breaker stays open the first time. */
  readonly backoffMs: number;
  /** The longest it stays open after repeated failed probes. */
  readonly maxBackoffMs: number;
}

export type BreakerState = "closed" | "open" | "half-open";

export class CircuitBreaker {
  #state: BreakerState = "closed";
  #consecutiveFailures = 0;
  #backoffMs: number;
  #openUntil = 0;
  /** When the probe in flight was let through (half-open only). */
  #probeSince = 0;

  constructor(
    private readonly settings: CircuitBreakerSettings,
    private readonly now: Clock,
  ) {
    this.#backoffMs = settings.backoffMs;
  }

  /** What the breaker would do with a request now (the backoff over moves "open" to "half-open"). */
  get state(): BreakerState {
    return this.#state === "open" && this.now() >= this.#openUntil ? "half-open" : this.#state;
  }

  /** Whether the next request may be a probe: the backoff is over, or the last probe is a backoff overdue. */
  #probeDue(now: number): boolean {
    return this.#state === "open" ? now >= this.#openUntil : now - this.#probeSince >= this.#backoffMs;
  }

  /** Whether `admits` would say yes now, without taking the probe's place (for comparing targets). */
  wouldAdmit(): boolean {
    return this.#state === "closed" || this.#probeDue(this.now());
  }

  /** Whether a request may go to the target now; when the backoff is over, the first caller becomes the probe. */
  admits(): boolean {
    if (this.#state === "closed") return true;
    const now = this.now();
    if (!this.#probeDue(now)) return false; // still backing off, or the probe is in flight
    this.#state = "half-open";
    this.#probeSince = now;
    return true;
  }

  succeeded(): void {
    this.#consecutiveFailures = 0;
    if (this.#state !== "closed") {
      this.#state = "closed";
      this.#backoffMs = this.settings.backoffMs;
    }
  }

  failed(): void {
    if (this.#state === "half-open") {
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.settings.maxBackoffMs);
      this.#open();
    } else if (this.#state === "closed" && ++this.#consecutiveFailures >= this.settings.failures) {
      this.#open();
    }
  }

  #open(): void {
    this.#state = "open";
    this.#consecutiveFailures = 0;
    this.#openUntil = this.now() + this.#backoffMs;
  }
}
