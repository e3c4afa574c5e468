/**
 * A counting semaphore with a bounded queue: at most `permits` holders at once, at most
 * `maxWaiting` callers waiting, and a refusal (not an ever-growing queue) beyond that. Password
 * hashing (passwords.ts) runs behind two, one for sign-ins and one for new passwords, so a burst
 * costs bounded memory and answers "busy" instead of piling up.
 *
 * @example
 * const gate = new Semaphore(2, 100);
 * const release = await (gate.acquire() ?? refuse());
 * try { await work(); } finally { release(); }
 */
export type Release = () => void;

export class Semaphore {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly permits: number,
    readonly maxWaiting: number,
  ) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`permits must be a positive integer, got ${permits}`);
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) throw new RangeError(`maxWaiting must be a non-negative integer, got ${maxWaiting}`);
  }

  /** Holders right now. */
  get active(): number {
    return this.#active;
  }

  /** Callers queued for a permit right now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * A permit, once one is free: resolves to the function that gives it back (calling it twice
   * gives back one permit only). `undefined`, at once, when the queue is full.
   */
  acquire(): Promise<Release> | undefined {
    if (this.#active < this.permits) {
      this.#active++;
      return Promise.resolve(this.#release());
    }
    if (this.#waiting.length >= this.maxWaiting) return undefined;
    // The permit passes straight from the releaser to the first waiter, so `active` never dips
    // and a newcomer cannot overtake the queue.
    return new Promise((resolve) => this.#waiting.push(() => resolve(this.#release())));
  }

  #release(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#active--;
      else next();
    };
  }
}
