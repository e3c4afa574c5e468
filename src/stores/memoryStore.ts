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

interface Entry {
  state: unknown;
  /** The algorithm that wrote `state`; state of another algorithm reads as none. */
  algorithm: string;
  expiresAt: number;
  /** The use count when the key was last (re)inserted: its place in the Map's order. */
  placedAt: number;
}

export class MemoryStore implements RateLimitStore {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #drift: number;
  readonly #timer: NodeJS.Timeout | undefined;
  /** Uses so far (writes and refusals): the clock of the eviction order. */
  #uses = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 1_000_000;
    this.#drift = Math.floor(this.#maxKeys / 2);
    const every = options.sweepIntervalMs ?? 10_000;
    this.#timer = every > 0 ? setInterval(() => this.sweep(), every).unref() : undefined;
  }

  consume(checks: readonly LimitCheck[]): Verdict {
    const now = this.#clock();
    return checks.length === 1 ? this.#consumeOne(checks[0]!, now) : this.#consumeAll(checks, now);
  }

  /** The common case, one limit: decideAll's semantics without its arrays. */
  #consumeOne(check: LimitCheck, now: number): Verdict {
    const entry = this.#entries.get(check.key);
    const outcome = algorithmOf(check.policy).decide(stateOf(entry, now, check.policy.algorithm), check.policy, now, check.cost, check.lease);
    const { decision } = outcome;
    if (decision.allowed) {
      // A peek (cost 0) changes nothing, so it writes nothing: it must not keep a key alive.
      if (check.cost !== 0) this.#write(check.key, entry, check.policy.algorithm, outcome.state, outcome.expiresAt);
    } else if (entry !== undefined) {
      this.#use(check.key, entry);
    }
    if (check.cost === 0 && entry !== undefined && entry.expiresAt <= now) this.#entries.delete(check.key);
    return { allowed: decision.allowed || check.policy.shadow === true, decisions: [decision], now };
  }

  #consumeAll(checks: readonly LimitCheck[], now: number): Verdict {
    const entries = checks.map((check) => this.#live(check.key, now));
    const { verdict, writes } = decideAll(entries.map((entry, i) => stateOf(entry, now, checks[i]!.policy.algorithm)), checks, now);
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i]!;
      const entry = entries[i];
      const write = writes?.[i];
      if (write !== undefined && check.cost !== 0) this.#write(check.key, entry, check.policy.algorithm, write.state, write.expiresAt);
      else if (!verdict.allowed && entry !== undefined) this.#use(check.key, entry);
    }
    return verdict;
  }

  release(leases: readonly LeaseRelease[]): void {
    const now = this.#clock();
    for (const { key, policy, lease } of leases) {
      const entry = this.#live(key, now);
      const outcome = concurrency.release!(stateOf(entry, now, policy.algorithm) as readonly Lease[] | undefined, policy, now, lease);
      if (outcome !== undefined) this.#write(key, entry, policy.algorithm, outcome.state, outcome.expiresAt);
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

  /** The key's entry while its state is live; an expired one is deleted on the way. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt > now) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  #write(key: string, entry: Entry | undefined, algorithm: string, state: unknown, expiresAt: number): void {
    if (entry === undefined) {
      this.#entries.set(key, { state, algorithm, expiresAt, placedAt: ++this.#uses });
      if (this.#entries.size > this.#maxKeys) this.#entries.delete(this.#entries.keys().next().value!);
      return;
    }
    entry.state = state;
    entry.algorithm = algorithm;
    entry.expiresAt = expiresAt;
    this.#use(key, entry);
  }

  /** Counts a use of a live key, moving it to the recent end once it has drifted into the older half. */
  #use(key: string, entry: Entry): void {
    if (++this.#uses - entry.placedAt <= this.#drift) return;
    entry.placedAt = this.#uses;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }
}

/**
 * The entry's state while it is live and of `algorithm`. An expired entry is kept by the single-limit path, to be
 * overwritten in place: a GCRA key below its rate expires between its requests, and deleting and
 * re-inserting it every time would cost more than the decision. The sweep reclaims the rest.
 */
function stateOf(entry: Entry | undefined, now: number, algorithm: string): unknown {
  return entry !== undefined && entry.expiresAt > now && entry.algorithm === algorithm ? entry.state : undefined;
}
