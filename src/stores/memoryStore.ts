/**
 * In-process limiter store: one Map from key to state. Atomic because JavaScript runs one
 * decision at a time in a process; exact for that process only (several processes need a shared
 * store: the Redis store).
 *
 * Memory stays bounded: expired state is dropped when read and by a periodic sweep, and past
 * `maxKeys` the least recently used key is evicted. A Map iterates in insertion order, so
 * re-inserting a key on use would give exact LRU order, but a delete and a set on every decision
 * cost more than the decision. A key is therefore re-inserted only once it has drifted into the
 * older half of the order (more than maxKeys / 2 uses ago); otherwise its entry is updated in
 * place. An evicted key was then unused for at least about maxKeys / 2 uses: LRU within a factor
 * of two. A refusal counts as a use, so a client that keeps being refused is not the first to be
 * forgotten and handed a fresh allowance.
 *
 * State belongs to a key and an algorithm, as in Redis (whose keys name the algorithm): a limit
 * reloaded with another algorithm under the same name starts its counters afresh instead of
 * reading state of another shape.
 *
 * Memory per key: a million keys must fit in little more than their names. The Map holds each key's
 * slot number (a small integer, stored in the Map's own table), and a slot's expiry, eviction
 * clock, algorithm and state live in typed arrays, a column each: no object per key. A state of
 * at most three numbers (every algorithm's but a long log's or leases') is stored as numbers and
 * read back as the same number or tuple; a larger one is kept as it is, by slot, beside them.
 * Freed slots are reused; the columns grow by doubling and never shrink.
 */
import { decideAll } from "../limiter/decideAll.js";
import { algorithmOf } from "../limiter/algorithms/index.js";
import type { Verdict } from "../limiter/decision.js";
import { concurrency, type Lease } from "../limiter/algorithms/concurrency/concurrency.js";
import type { LeaseRelease, LimitCheck } from "../limiter/policy.js";
import type { Clock } from "../limits/clock.js";
import type { RateLimitStore } from "./store.js";

export interface MemoryStoreOptions {
  readonly clock?: Clock;
  /** Most keys kept before the least recently used is evicted; default 1,000,000. */
  readonly maxKeys?: number;
  /** How often expired state is swept; 0 disables the timer (tests sweep by hand). */
  readonly sweepIntervalMs?: number;
}

/** Numbers of state a slot holds itself. */
const INLINE = 3;
/** How a slot's state is stored: none, one number, a tuple of 0..INLINE numbers (TUPLE + length), or an object beside the columns. */
const NONE = 0;
const NUMBER = 1;
const TUPLE = 2;
const OBJECT = TUPLE + INLINE + 1;
const FIRST_CAPACITY = 1024;
/**
 * Keys the periodic sweep looks at per turn of the event loop: a whole pass over a million keys
 * takes 15–20 ms, a stall every request in flight would wait out; slices of this size take a
 * fraction of a millisecond each.
 */
const SWEEP_SLICE = 10_000;

export class MemoryStore implements RateLimitStore {
  /** key → slot. */
  readonly #slots = new Map<string, number>();
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #drift: number;
  readonly #timer: NodeJS.Timeout | undefined;
  /** The periodic sweep's pass in progress, and its next slice. */
  #pass: MapIterator<[string, number]> | undefined;
  #nextSlice: NodeJS.Immediate | undefined;
  /** Uses so far (writes and refusals): the clock of the eviction order. */
  #uses = 0;
  /** Per slot: when its state expires (epoch ms). */
  #expiresAt = new Float64Array(0);
  /** Per slot: the use count when its key was last (re)inserted, its place in the Map's order. */
  #placedAt = new Float64Array(0);
  /** Per slot: INLINE numbers of state. */
  #numbers = new Float64Array(0);
  /** Per slot: the algorithm that wrote the state (its index in #algorithms, + 1; 0: free). */
  #algorithm = new Uint8Array(0);
  /** Per slot: how the state is stored (NONE, NUMBER, TUPLE + n, OBJECT). */
  #shape = new Uint8Array(0);
  /** States that are not a few numbers, by slot. */
  readonly #objects = new Map<number, unknown>();
  /** Algorithm names in the order first seen; a slot stores an index. */
  readonly #algorithms: string[] = [];
  /** Slots never used (from #unused up) or freed (#free). */
  #unused = 0;
  readonly #free: number[] = [];

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 1_000_000;
    this.#drift = Math.floor(this.#maxKeys / 2);
    const every = options.sweepIntervalMs ?? 10_000;
    this.#timer = every > 0 ? setInterval(() => this.#startPass(), every).unref() : undefined;
  }

  consume(checks: readonly LimitCheck[]): Verdict {
    const now = this.#clock();
    return checks.length === 1 ? this.#consumeOne(checks[0]!, now) : this.#consumeAll(checks, now);
  }

  /** The common case, one limit: decideAll's semantics without its arrays. */
  #consumeOne(check: LimitCheck, now: number): Verdict {
    const slot = this.#slots.get(check.key);
    const outcome = algorithmOf(check.policy).decide(this.#stateOf(slot, now, check.policy.algorithm), check.policy, now, check.cost, check.lease);
    const { decision } = outcome;
    if (decision.allowed) {
      // A peek (cost 0) changes nothing, so it writes nothing: it must not keep a key alive.
      if (check.cost !== 0) this.#write(check.key, slot, check.policy.algorithm, outcome.state, outcome.expiresAt);
    } else if (slot !== undefined) {
      this.#use(check.key, slot);
    }
    if (check.cost === 0 && slot !== undefined && this.#expiresAt[slot]! <= now) this.#delete(check.key, slot);
    this.#trim();
    return { allowed: decision.allowed || check.policy.shadow === true, decisions: [decision], now };
  }

  #consumeAll(checks: readonly LimitCheck[], now: number): Verdict {
    const slots = checks.map((check) => this.#live(check.key, now));
    const { verdict, writes } = decideAll(slots.map((slot, i) => this.#stateOf(slot, now, checks[i]!.policy.algorithm)), checks, now);
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i]!;
      const slot = slots[i];
      const write = writes?.[i];
      if (write !== undefined && check.cost !== 0) this.#write(check.key, slot, check.policy.algorithm, write.state, write.expiresAt);
      else if (!verdict.allowed && slot !== undefined) this.#use(check.key, slot);
    }
    this.#trim();
    return verdict;
  }

  release(leases: readonly LeaseRelease[]): void {
    const now = this.#clock();
    for (const { key, policy, lease } of leases) {
      const slot = this.#live(key, now);
      const outcome = concurrency.release!(this.#stateOf(slot, now, policy.algorithm) as readonly Lease[] | undefined, policy, now, lease);
      if (outcome !== undefined) this.#write(key, slot, policy.algorithm, outcome.state, outcome.expiresAt);
    }
    this.#trim();
  }

  reset(key: string): void {
    const slot = this.#slots.get(key);
    if (slot !== undefined) this.#delete(key, slot);
  }

  /** Drops every expired entry, now. (The timer's sweep does the same in slices.) */
  sweep(): void {
    const now = this.#clock();
    for (const [key, slot] of this.#slots) if (this.#expiresAt[slot]! <= now) this.#delete(key, slot);
  }

  #startPass(): void {
    if (this.#pass !== undefined) return; // the last pass has not ended yet
    this.#pass = this.#slots.entries();
    this.#sweepSlice();
  }

  /** SWEEP_SLICE keys of the pass, then the rest on a later turn. A key moved or added meanwhile may be looked at again or later: both are harmless. */
  readonly #sweepSlice = (): void => {
    this.#nextSlice = undefined;
    const pass = this.#pass;
    if (pass === undefined) return;
    const now = this.#clock();
    for (let seen = 0; seen < SWEEP_SLICE; seen++) {
      const next = pass.next();
      if (next.done === true) {
        this.#pass = undefined;
        return;
      }
      const [key, slot] = next.value;
      if (this.#expiresAt[slot]! <= now) this.#delete(key, slot);
    }
    this.#nextSlice = setImmediate(this.#sweepSlice).unref();
  };

  get size(): number {
    return this.#slots.size;
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    clearImmediate(this.#nextSlice);
    this.#pass = undefined;
    this.#slots.clear();
    this.#objects.clear();
    this.#free.length = 0;
    this.#unused = 0;
    return Promise.resolve();
  }

  /** The key's slot while its state is live; an expired one is deleted on the way. */
  #live(key: string, now: number): number | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined || this.#expiresAt[slot]! > now) return slot;
    this.#delete(key, slot);
    return undefined;
  }

  /**
   * The slot's state while it is live and of `algorithm`. An expired slot is kept by the single-limit path, to be
   * overwritten in place: a GCRA key below its rate expires between its requests, and deleting and
   * re-inserting it every time would cost more than the decision. The sweep reclaims the rest.
   */
  #stateOf(slot: number | undefined, now: number, algorithm: string): unknown {
    if (slot === undefined || this.#expiresAt[slot]! <= now || this.#algorithms[this.#algorithm[slot]! - 1] !== algorithm) return undefined;
    const shape = this.#shape[slot]!;
    const at = slot * INLINE;
    switch (shape) {
      case NONE: return undefined;
      case NUMBER: return this.#numbers[at];
      case OBJECT: return this.#objects.get(slot);
      default: {
        const tuple = new Array<number>(shape - TUPLE);
        for (let i = 0; i < tuple.length; i++) tuple[i] = this.#numbers[at + i]!;
        return tuple;
      }
    }
  }

  #write(key: string, slot: number | undefined, algorithm: string, state: unknown, expiresAt: number): void {
    if (slot === undefined) {
      const fresh = this.#allocate();
      this.#placedAt[fresh] = ++this.#uses;
      this.#store(fresh, algorithm, state, expiresAt);
      // A key made by concatenation (every limit key is) is a rope of strings until something
      // reads a character of it, which makes V8 flatten it: once per key, it then costs its
      // characters instead of a rope's nodes (about 40 bytes less per key).
      key.charCodeAt(0);
      this.#slots.set(key, fresh);
      return;
    }
    this.#store(slot, algorithm, state, expiresAt);
    this.#use(key, slot);
  }

  #store(slot: number, algorithm: string, state: unknown, expiresAt: number): void {
    this.#expiresAt[slot] = expiresAt;
    this.#algorithm[slot] = this.#algorithmIndex(algorithm);
    const at = slot * INLINE;
    let shape: number;
    if (state === undefined) shape = NONE;
    else if (typeof state === "number") {
      shape = NUMBER;
      this.#numbers[at] = state;
    } else if (Array.isArray(state) && state.length <= INLINE && state.every((n) => typeof n === "number")) {
      shape = TUPLE + state.length;
      for (let i = 0; i < state.length; i++) this.#numbers[at + i] = state[i] as number;
    } else {
      shape = OBJECT;
      this.#objects.set(slot, state);
    }
    if (shape !== OBJECT && this.#shape[slot] === OBJECT) this.#objects.delete(slot);
    this.#shape[slot] = shape;
  }

  /** Counts a use of a live key, moving it to the recent end once it has drifted into the older half. */
  #use(key: string, slot: number): void {
    if (++this.#uses - this.#placedAt[slot]! <= this.#drift) return;
    this.#placedAt[slot] = this.#uses;
    this.#slots.delete(key);
    this.#slots.set(key, slot);
  }

  /**
   * Past maxKeys, evicts the least recently used keys. Only once a call's writes are done: a slot
   * freed in the middle of them could be handed to a new key while a later write still names it.
   */
  #trim(): void {
    while (this.#slots.size > this.#maxKeys) {
      const [oldest, slot] = this.#slots.entries().next().value!;
      this.#delete(oldest, slot);
    }
  }

  #delete(key: string, slot: number): void {
    this.#slots.delete(key);
    if (this.#shape[slot] === OBJECT) this.#objects.delete(slot);
    this.#shape[slot] = NONE;
    this.#algorithm[slot] = 0;
    this.#free.push(slot);
  }

  #allocate(): number {
    const freed = this.#free.pop();
    if (freed !== undefined) return freed;
    if (this.#unused === this.#expiresAt.length) this.#grow();
    return this.#unused++;
  }

  /** Doubles the columns (the first time, FIRST_CAPACITY slots). */
  #grow(): void {
    const capacity = Math.max(FIRST_CAPACITY, this.#expiresAt.length * 2);
    const grown = <T extends Float64Array | Uint8Array>(old: T, make: (n: number) => T, per = 1): T => {
      const next = make(capacity * per);
      next.set(old);
      return next;
    };
    this.#expiresAt = grown(this.#expiresAt, (n) => new Float64Array(n));
    this.#placedAt = grown(this.#placedAt, (n) => new Float64Array(n));
    this.#numbers = grown(this.#numbers, (n) => new Float64Array(n), INLINE);
    this.#algorithm = grown(this.#algorithm, (n) => new Uint8Array(n));
    this.#shape = grown(this.#shape, (n) => new Uint8Array(n));
  }

  /** The algorithm's index + 1, as a slot stores it. */
  #algorithmIndex(algorithm: string): number {
    let index = this.#algorithms.indexOf(algorithm);
    if (index === -1) index = this.#algorithms.push(algorithm) - 1;
    return index + 1;
  }
}
