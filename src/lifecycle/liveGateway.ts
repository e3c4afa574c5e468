/**
 * The gateway as it stands now, swappable while it serves: each configuration compiles into a
 * generation (a route table with its upstream pools, and the pipeline built on it), and the
 * node:http handler reads the current generation through one reference per request. A reload
 * swaps that reference: new requests take the new generation at once, requests already in flight
 * finish on the one they started with, and the old generation's pools are closed only once its
 * last request has ended (undici's close would wait for requests it had dispatched, but not for a
 * request still deciding its limits between the route and the proxy stages).
 *
 * Draining at shutdown is the server's, for every response alike (edge/connectionDrain.ts).
 *
 * @example
 * const live = new LiveGateway(first, logger);
 * createServer((req, res) => live.handle(req, res));
 * live.swap(second);            // first's pools close once its requests have ended
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../observability/logger.js";

export interface GatewayGeneration {
  /** The pipeline compiled for this generation's configuration; it calls `ended` once the request has ended. */
  readonly handle: (req: IncomingMessage, res: ServerResponse, ended: () => void) => void;
  /** Releases what the generation holds (its upstream pools); called once, after its last request. */
  readonly close: () => Promise<void>;
}

/** A generation and the requests it serves; its `ended` is bound once, not per request. */
class Tracked {
  inFlight = 0;
  retired = false;
  readonly drained: Promise<void>;
  readonly ended: () => void;
  #resolve!: () => void;

  constructor(readonly generation: GatewayGeneration) {
    this.drained = new Promise((resolve) => (this.#resolve = resolve));
    this.ended = () => {
      if (--this.inFlight === 0 && this.retired) this.#resolve();
    };
  }

  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.#resolve();
  }
}

export class LiveGateway {
  #current: Tracked;
  /** Generations no longer taking requests, until closed. */
  readonly #retired = new Set<Tracked>();
  readonly #retiring = new Set<Promise<void>>();
  readonly #logger: Logger;

  constructor(first: GatewayGeneration, logger: Logger) {
    this.#current = new Tracked(first);
    this.#logger = logger;
  }

  /** The hot path: one reference read and one counter per request; the generation reports its end. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const tracked = this.#current;
    tracked.inFlight++;
    tracked.generation.handle(req, res, tracked.ended);
  };

  /** Requests in flight, over every generation still serving some. */
  get inFlight(): number {
    let sum = this.#current.retired ? 0 : this.#current.inFlight;
    for (const tracked of this.#retired) sum += tracked.inFlight;
    return sum;
  }

  /** New requests go to `next`; the previous generation is closed once its last request ends. */
  swap(next: GatewayGeneration): void {
    const previous = this.#current;
    this.#current = new Tracked(next);
    this.#retire(previous);
  }

  /**
   * Closes every generation after its requests have ended. Call once the listener has stopped
   * accepting (or its deadline passed and the connections were destroyed), so nothing new arrives.
   */
  async close(): Promise<void> {
    this.#retire(this.#current);
    await Promise.all(this.#retiring);
  }

  #retire(tracked: Tracked): void {
    this.#retired.add(tracked);
    tracked.retire();
    const done = tracked.drained
      .then(() => tracked.generation.close())
      .catch((error: unknown) => this.#logger.warn({ err: error }, "could not close a retired gateway generation"))
      .finally(() => {
        this.#retired.delete(tracked);
        this.#retiring.delete(done);
      });
    this.#retiring.add(done);
  }
}
