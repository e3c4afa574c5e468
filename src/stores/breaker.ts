/**
 * Whether the shared store is failing: a judgement over several calls, with hysteresis, never
 * one late reply. The failover store asks it before each decision and tells it each outcome.
 *
 * - Closed (the store answers): every decision goes to the store. Failures that follow each other
 *   with no answer between them, for at least `spanMs` from the first to the last, open it: a
 *   store that has not answered anything for that long is down or hung. A failed call still gets
 *   its limits' failure modes; the breaker only decides whether the next decisions wait for the
 *   store at all.
 * - Open: decisions get their failure modes at once, without asking the store. A probe (a call
 *   with no decisions) is sent after `probeIntervalMs`, then again after twice as long while
 *   probes fail, up to `maxProbeIntervalMs`; `recoveries` answered probes in a row close it.
 *
 * @example
 * const breaker = new Breaker({ spanMs: 50 });
 * const since = breaker.failed(now); // defined when this failure opens it: when the failures began
 * const next = breaker.probed(true); // undefined: closed again; a number: probe again in that many ms
 */
export interface BreakerOptions {
  /** How long failures must go on, with no answer between them, before the breaker opens. */
  readonly spanMs: number;
  /** First wait before probing an open breaker; default 25 ms. */
  readonly probeIntervalMs?: number;
  /** Longest wait between probes; default 500 ms (the Redis client reconnects at least every second). */
  readonly maxProbeIntervalMs?: number;
  /** Answered probes in a row that close it; default 2. */
  readonly recoveries?: number;
}

export class Breaker {
  readonly #spanMs: number;
  readonly #probeIntervalMs: number;
  readonly #maxProbeIntervalMs: number;
  readonly #recoveries: number;
  #open = false;
  /** When the current streak of failures began; undefined while the store answers. */
  #failingSince: number | undefined;
  #answeredProbes = 0;
  #nextProbeMs: number;

  constructor(options: BreakerOptions) {
    this.#spanMs = options.spanMs;
    this.#probeIntervalMs = options.probeIntervalMs ?? 25;
    this.#maxProbeIntervalMs = options.maxProbeIntervalMs ?? 500;
    this.#recoveries = options.recoveries ?? 2;
    this.#nextProbeMs = this.#probeIntervalMs;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** The wait before the first probe of a breaker that has just opened. */
  get probeIntervalMs(): number {
    return this.#probeIntervalMs;
  }

  /** The store answered a decision: a streak of failures is over. */
  answered(): void {
    this.#failingSince = undefined;
  }

  /** A decision failed at `now`. When this opens the breaker: when the failures began; else undefined. */
  failed(now: number): number | undefined {
    if (this.#open) return undefined;
    if (this.#failingSince === undefined || now < this.#failingSince) this.#failingSince = now;
    const since = this.#failingSince;
    if (now - since < this.#spanMs) return undefined;
    this.trip();
    return since;
  }

  /** Opens at once: the store could not be reached at start-up. */
  trip(): void {
    this.#open = true;
    this.#failingSince = undefined;
    this.#answeredProbes = 0;
    this.#nextProbeMs = this.#probeIntervalMs;
  }

  /** A probe's outcome, for an open breaker: undefined when it closes it, else the ms before the next probe. */
  probed(answered: boolean): number | undefined {
    if (answered) {
      if (++this.#answeredProbes < this.#recoveries) return this.#probeIntervalMs;
      this.#open = false;
      return undefined;
    }
    this.#answeredProbes = 0;
    this.#nextProbeMs = Math.min(this.#maxProbeIntervalMs, this.#nextProbeMs * 2);
    return this.#nextProbeMs;
  }
}
