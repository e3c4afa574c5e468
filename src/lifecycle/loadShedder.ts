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
 * how many were shed since the last line.
 *
 * @example
 * const shedder = new LoadShedder({ maxEventLoopDelayMs: 1000, maxPendingDecisions: 10000, pending: () => store.pending ?? 0, logger });
 * const why = shedder.shed("gateway"); // undefined: let it in; else a sentence for the 503's detail
 */
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";

export const PLANES = ["gateway", "service", "grpc"] as const;
export type Plane = (typeof PLANES)[number];

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
}

/** Seconds a shed client is told to wait. */
export const SHED_RETRY_AFTER_SECONDS = 1;
const LOG_EVERY_MS = 1_000;

export class LoadShedder {
  readonly #options: LoadShedderOptions;
  readonly #interval: number;
  #timer: NodeJS.Timeout | undefined;
  /** When the next sample is due, and how late the last one ran. */
  #nextSampleAt: number;
  #lastDelay = 0;
  #shedSinceLog = 0;
  #loggedAt = -Infinity;

  constructor(options: LoadShedderOptions) {
    this.#options = options;
    this.#interval = options.sampleIntervalMs ?? 20;
    this.#nextSampleAt = performance.now() + this.#interval;
    this.#schedule();
  }

  /** The event loop's delay now, ms: the last sample's lateness, or how overdue the next one is. */
  get eventLoopDelayMs(): number {
    return Math.max(this.#lastDelay, performance.now() - this.#nextSampleAt);
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

  #shedOne(plane: Plane, why: string): void {
    this.#options.onShed?.(plane);
    this.#shedSinceLog++;
    const now = performance.now();
    if (now - this.#loggedAt < LOG_EVERY_MS) return;
    this.#options.logger.warn({ shed: this.#shedSinceLog, plane }, `shedding load: ${why}; new requests get 503 until it recovers`);
    this.#loggedAt = now;
    this.#shedSinceLog = 0;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      const now = performance.now();
      this.#lastDelay = Math.max(0, now - this.#nextSampleAt);
      this.#nextSampleAt = now + this.#interval;
      this.#schedule();
    }, this.#interval).unref();
  }
}
