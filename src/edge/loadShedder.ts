/**
 * Overload is its own answer: when this process cannot keep up, new requests are refused with a
 * 503 before anything counts them, rather than admitted late or mistaken for a failing Redis.
 * The gateway's `shed` stage, the rate-limit API and its gRPC service ask it first, so a shed
 * request is never charged against a limit and never admitted past one.
 *
 * Two measures, each with its bound (config: server.overload):
 * - the event loop's delay: how late a timer that should fire every `sampleIntervalMs` runs, and
 *   how overdue the next one is now (so a loop that has just come out of a long task sheds the
 *   backlog that piled up during it, before the next sample says so);
 * - queued work: decisions waiting for the shared store.
 * A refusal is counted per plane (`onShed`: the metrics) and logged at most once a second, with
 * how many were shed since the last line (the last refusals of a spell are told within a second
 * too, by the sampler).
 *
 * @example
 * const shedder = new LoadShedder({ maxEventLoopDelayMs: 1000, maxPendingDecisions: 10000, pending: () => store.pending ?? 0, logger });
 * const why = shedder.shed("gateway"); // undefined: let it in; else a sentence for the 503's detail
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import type { ShedPlane } from "../observability/observers.js";

/** Where a request is shed: the gateway, POST /v1/ratelimit or gRPC. */
export type Plane = ShedPlane;

export interface LoadShedderOptions {
  /** Shed while the event loop runs later than this (ms). */
  readonly maxEventLoopDelayMs: number;
  /** Shed while more decisions than this wait for the shared store. */
  readonly maxPendingDecisions: number;
  /** Decisions waiting for the shared store now. */
  readonly pending: () => number;
  readonly logger: Logger;
  /** Told of each shed request (the metrics). */
  readonly onShed?: ((plane: Plane) => void) | undefined;
  /** How often the event loop's delay is sampled; default 20 ms. */
  readonly sampleIntervalMs?: number;
  /** Monotonic ms (performance.now); tests move it and call `sample` instead of sleeping. */
  readonly clock?: () => number;
}

/** Seconds a shed client is told to wait. */
export const SHED_RETRY_AFTER_SECONDS = 1;
const LOG_EVERY_MS = 1_000;

export class LoadShedder {
  readonly #options: LoadShedderOptions;
  readonly #interval: number;
  readonly #clock: () => number;
  #timer: NodeJS.Timeout | undefined;
  /** When the next sample is due, and how late the last one ran. */
  #nextSampleAt: number;
  #lastDelay = 0;
  /** Refusals since the last warning, and why the last one was refused. */
  #shedSinceLog = 0;
  #lastReason: { plane: Plane; why: string } | undefined;
  #loggedAt = -Infinity;

  constructor(options: LoadShedderOptions) {
    this.#options = options;
    this.#interval = options.sampleIntervalMs ?? 20;
    this.#clock = options.clock ?? (() => performance.now());
    this.#nextSampleAt = this.#clock() + this.#interval;
    this.#schedule();
  }

  /** The event loop's delay now, ms: the last sample's lateness, or how overdue the next one is. */
  get eventLoopDelayMs(): number {
    return Math.max(this.#lastDelay, this.#clock() - this.#nextSampleAt);
  }

  /** Why a new request on `plane` must be shed now, or undefined to let it in. */
  shed(plane: Plane): string | undefined {
    const { maxEventLoopDelayMs, maxPendingDecisions } = this.#options;
    const delay = this.eventLoopDelayMs;
    let why: string | undefined;
    if (delay > maxEventLoopDelayMs) why = `the event loop runs ${Math.round(delay)} ms late (bound ${maxEventLoopDelayMs} ms)`;
    else {
      const pending = this.#options.pending();
      if (pending > maxPendingDecisions) why = `${pending} decisions wait for the limiter store (bound ${maxPendingDecisions})`;
    }
    if (why !== undefined) this.#shedOne(plane, why);
    return why;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Takes a sample of the event loop's delay (the timer does, every `sampleIntervalMs`), and
   * writes the warning owed for refusals since the last one once a second has passed.
   */
  sample(): void {
    const now = this.#clock();
    this.#lastDelay = Math.max(0, now - this.#nextSampleAt);
    this.#nextSampleAt = now + this.#interval;
    if (this.#shedSinceLog > 0) this.#warn(now);
  }

  #shedOne(plane: Plane, why: string): void {
    this.#options.onShed?.(plane);
    this.#shedSinceLog++;
    this.#lastReason = { plane, why };
    this.#warn(this.#clock());
  }

  /** At most one line a second, counting every refusal since the previous line. */
  #warn(now: number): void {
    if (now - this.#loggedAt < LOG_EVERY_MS || this.#lastReason === undefined) return;
    const { plane, why } = this.#lastReason;
    this.#options.logger.warn({ shed: this.#shedSinceLog, plane }, `shedding load: ${why}; new requests get 503 until it recovers`);
    this.#loggedAt = now;
    this.#shedSinceLog = 0;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.sample();
      this.#schedule();
    }, this.#interval).unref();
  }
}
