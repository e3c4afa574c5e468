/**
 * In-process limiter store: one Map from key to state. Atomic because JavaScript runs one
 * decision at a time in a process; exact for that process only (several processes need a shared
 * store, which the Redis store will be).
 *
 * Memory stays bounded: expired state is dropped when read and by a periodic sweep, and past
 * `maxKeys` the least recently used key is evicted (a Map iterates in insertion order; every
 * write re-inserts its key, and so does a refusal, so a client that keeps being refused is not
 * the first to be forgotten and handed a fresh allowance).
 */
import { decideAll } from "../limiter/decideAll.js";
import type { Verdict } from "../limiter/decision.js";
import { concurrency, type Lease } from "../limiter/algorithms/concurrency.js";
import type { LeaseRelease, LimitCheck } from "../limiter/policy.js";
import type { Clock, RateLimitStore } from "./store.js";

export interface MemoryStoreOptions {
  readonly clock?: Clock;
  /** Most keys kept before the least recently used is evicted; default 1,000,000. */
  readonly maxKeys?: number;
  /** How often expired state is swept; 0 disables the timer (tests sweep by hand). */
  readonly sweepIntervalMs?: number;
}

interface Entry {
  state: unknown;
  expiresAt: number;
}

export class MemoryStore implements RateLimitStore {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 1_000_000;
    const every = options.sweepIntervalMs ?? 10_000;
    this.#timer = every > 0 ? setInterval(() => this.sweep(), every).unref() : undefined;
  }

  consume(checks: readonly LimitCheck[]): Verdict {
    const now = this.#clock();
    const states = checks.map((check) => this.#read(check.key, now));
    const { verdict, writes } = decideAll(states, checks, now);
    if (!verdict.allowed) {
      for (const check of checks) this.#touch(check.key);
    } else if (writes !== undefined) {
      for (let i = 0; i < checks.length; i++) {
        const check = checks[i] as LimitCheck;
        const write = writes[i];
        // A peek (cost 0) changes nothing, so it writes nothing: it must not keep a key alive.
        if (write === undefined || check.cost === 0) continue;
        this.#write(check.key, write.state, write.expiresAt);
      }
    }
    return verdict;
  }

  release(leases: readonly LeaseRelease[]): void {
    const now = this.#clock();
    for (const { key, policy, lease } of leases) {
      const outcome = concurrency.release!(this.#read(key, now) as readonly Lease[] | undefined, policy, now, lease);
      if (outcome !== undefined) this.#write(key, outcome.state, outcome.expiresAt);
    }
  }

  reset(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every expired entry. */
  sweep(): void {
    const now = this.#clock();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    this.#entries.clear();
    return Promise.resolve();
  }

  #read(key: string, now: number): unknown {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry.state;
    this.#entries.delete(key);
    return undefined;
  }

  /** Marks a live key as just used, so eviction takes it last. */
  #touch(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }

  #write(key: string, state: unknown, expiresAt: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { state, expiresAt });
    if (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }
}
