/**
 * Caps retries so they cannot multiply an outage: over a sliding window (ten buckets of a tenth
 * each), retries may be at most `ratio` of the requests, plus `minPerSecond` so a quiet service
 * can still retry at all. Counting costs two increments and, once per bucket, a rotation.
 *
 * @example
 * const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 5, windowMs: 10_000 }, Date.now);
 * budget.requested();                       // every request
 * if (budget.tryRetry()) dispatchAgain();   // spends one retry if the budget allows
 */
import type { Clock } from "../../limits/clock.js";

export interface RetryBudgetSettings {
  /** Retries allowed per request over the window (0.2: one in five). */
  readonly ratio: number;
  /** Retries allowed per second however few the requests. */
  readonly minPerSecond: number;
  readonly windowMs: number;
}

const BUCKETS = 10;

export class RetryBudget {
  readonly #requests = new Float64Array(BUCKETS);
  readonly #retries = new Float64Array(BUCKETS);
  readonly #bucketMs: number;
  readonly #floor: number;
  #bucket = 0;
  #bucketEndsAt = 0;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly now: Clock,
  ) {
    this.#bucketMs = settings.windowMs / BUCKETS;
    this.#floor = (settings.minPerSecond * settings.windowMs) / 1000;
  }

  requested(): void {
    this.#rotate();
    this.#requests[this.#bucket]!++;
  }

  /** Spends one retry when the window's retries are still within the budget; false (nothing spent) otherwise. */
  tryRetry(): boolean {
    this.#rotate();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.#requests[i]!;
      retries += this.#retries[i]!;
    }
    if (retries >= this.#floor + this.settings.ratio * requests) return false;
    this.#retries[this.#bucket]!++;
    return true;
  }

  /** Moves to the bucket of now, emptying the ones skipped (all of them after a long silence). */
  #rotate(): void {
    const now = this.now();
    if (now < this.#bucketEndsAt) return;
    const skipped = Math.min(BUCKETS, Math.floor((now - this.#bucketEndsAt) / this.#bucketMs) + 1);
    for (let i = 0; i < skipped; i++) {
      this.#bucket = (this.#bucket + 1) % BUCKETS;
      this.#requests[this.#bucket] = 0;
      this.#retries[this.#bucket] = 0;
    }
    // Buckets stay aligned to the first one's start, however long the silence was.
    this.#bucketEndsAt = now - ((now - this.#bucketEndsAt) % this.#bucketMs) + this.#bucketMs;
  }
}
