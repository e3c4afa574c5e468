/**
 * A counting semaphore with a bounded queue: at most `permits` holders at once, at most
 * `maxWaiting` callers waiting, and a refusal (not an ever-growing queue) beyond that. Password
 * hashing (passwords.ts) runs behind two, one for sign-ins and one for new passwords, so a burst
 * costs bounded memory and answers "busy" instead of piling up.
 *
 * A caller takes a place (`enter`) and waits for its turn; it may leave before its turn comes
 * (the sign-in that took its place before asking the login throttle, and was refused there), and
 * then frees its room in the queue at once.
 *
 * @example
 * const gate = new Semaphore(2, 100);
 * const place = gate.enter() ?? refuse();
 * try { await place.turn; await work(); } finally { place.leave(); }
 */
export type Release = () => void;

/** A place at the gate. */
export interface Place {
  /** Resolves once the place holds a permit (with the function that gives it back, as `leave` does). */
  readonly turn: Promise<Release>;
  /** Gives back the permit, or the place in the queue before its turn; once is enough, more change nothing. */
  leave(): void;
}

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

  /** A place: holding a permit at once when one is free, else queued. `undefined`, at once, when the queue is full. */
  enter(): Place | undefined {
    if (this.#active < this.permits) {
      this.#active++;
      const release = this.#release();
      return { turn: Promise.resolve(release), leave: release };
    }
    if (this.#waiting.length >= this.maxWaiting) return undefined;
    let release: Release | undefined;
    // The permit passes straight from the releaser to the first waiter, so `active` never dips
    // and a newcomer cannot overtake the queue.
    let grant!: () => void;
    const turn = new Promise<Release>((resolve) => {
      grant = () => resolve(release = this.#release());
    });
    this.#waiting.push(grant);
    return {
      turn,
      leave: () => {
        if (release !== undefined) return release();
        const at = this.#waiting.indexOf(grant);
        if (at !== -1) this.#waiting.splice(at, 1);
      },
    };
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
