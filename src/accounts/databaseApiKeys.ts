/**
 * Verifies the API keys kept in the database, on the gateway's hot path: SHA-256 of the presented
 * key → an in-memory cache → on a miss, one indexed lookup (apiKeys.ts, `findActiveByHash`).
 *
 * Architecture. A cache hit answers synchronously; a miss answers a Promise, and concurrent misses
 * for one hash share one query. Keys that verify are cached for `ttlMs` (30 s); hashes that do not
 * (unknown, revoked, expired, owner disabled — all the same `undefined`, the same 401) are cached
 * for `negativeTtlMs` (5 s), in a separate LRU so a flood of bad keys costs the database one lookup
 * per key per 5 s and cannot push the good keys out. Both are bounded and evict the least recently
 * used entry. Hits and misses are counted (`cacheLookups`) for /metrics. `known` answers from the
 * verified keys alone and never asks: what a throttled address is served (gateway/invalidKeyThrottle.ts).
 * Random keys are each new to the cache, so that throttle, not the cache, bounds their lookups. A
 * key made later has a new random hash, which no instance can have cached as refused.
 *
 * Staying correct while caching. A key's expiry is checked against the clock on every hit, so a
 * cached key stops verifying the moment it expires. Revocation and every other change travel on the
 * `sluice_api_keys` channel (from this instance or any other sharing the database): a key's hash
 * drops that key, `user:<id>` that owner's keys, `*` (also sent after a lost connection) all of
 * them. A lookup that was in flight when any change arrived is answered but not cached, so a
 * result read just before a revocation cannot outlive it.
 *
 * Last use. Uses are recorded in memory and written in one batched UPDATE every `flushIntervalMs`
 * (1 s; and on close, and when the owner's key list is read: accountRoutes.ts), never once per
 * request; each key is stamped with its own latest use, and never with a use after its revocation.
 * A failed flush keeps its uses for the next one and reports to `onError`.
 *
 * @example
 * const verifier = await databaseApiKeys(apiKeyRepository(db), db);
 * authenticate(verifier); // … and on shutdown: await verifier.close();
 */
import type { Database } from "../db/database.js";
import { sha256Hex } from "../config/apiKeyDigest.js";
import { API_KEY_PATTERN, API_KEYS_CHANNEL, OWNER_KEYS_PREFIX, type ActiveApiKey, type ApiKeyRepository } from "./apiKeys.js";
import type { ApiKeyVerifier, Consumer } from "./consumer.js";

export interface DatabaseApiKeysOptions {
  /** Milliseconds since the epoch, for expiries and cache lifetimes. */
  readonly now?: (() => number) | undefined;
  /** How long a key that verified is trusted without asking the database again. */
  readonly ttlMs?: number | undefined;
  /** How long a hash that did not verify is refused without asking again. */
  readonly negativeTtlMs?: number | undefined;
  /** Most keys kept of each kind (verified, refused). */
  readonly maxEntries?: number | undefined;
  /** How often recorded uses are written to `last_used_at`; default 1 s. */
  readonly flushIntervalMs?: number | undefined;
  /** Told of a failed background flush (the uses are kept and retried). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

export interface DatabaseApiKeys extends ApiKeyVerifier {
  /** Lookups answered from the cache (a refusal too) and lookups that asked the database, for /metrics. */
  readonly cacheLookups: { readonly hits: number; readonly misses: number };
  /** Writes the uses recorded so far to `last_used_at`. */
  flush(): Promise<void>;
  /** Stops listening and the flush timer, then flushes (once, however often it is called). */
  close(): Promise<void>;
}

interface Entry {
  /** undefined: the hash does not verify. */
  readonly consumer: Consumer | undefined;
  readonly keyId: string;
  readonly ownerId: string | undefined;
  /** When the key itself stops verifying (Infinity: never). */
  readonly expiresAt: number;
  /** When the cache must ask the database again. */
  readonly staleAt: number;
}

const HASH = /^[0-9a-f]{64}$/;

/** A Map in least-recently-used order, holding at most `max` entries. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value!);
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, value] of this.#map) if (predicate(value)) this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
}

function consumerOf(key: ActiveApiKey): Consumer {
  return Object.freeze({
    id: `user:${key.owner.id}`,
    plan: key.plan ?? key.owner.plan,
    keyId: key.id,
    ...(key.scopes === null ? {} : { scopes: Object.freeze([...key.scopes]) }),
  });
}

export async function databaseApiKeys(
  repo: Pick<ApiKeyRepository, "findActiveByHash" | "touchLastUsed">,
  db: Pick<Database, "listen">,
  options: DatabaseApiKeysOptions = {},
): Promise<DatabaseApiKeys> {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 30_000;
  const negativeTtlMs = options.negativeTtlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const onError = options.onError ?? (() => undefined);

  const verified = new Lru<Entry>(maxEntries);
  const refused = new Lru<Entry>(maxEntries);
  const inFlight = new Map<string, Promise<Entry>>();
  /** Bumped by every change notice: a lookup that started before one must not be cached. */
  let epoch = 0;
  /** key id → latest use not yet written. */
  let uses = new Map<string, number>();
  /** The last flush asked for, settled or not: flushes run one after another. */
  let flushed: Promise<void> = Promise.resolve();
  const cacheLookups = { hits: 0, misses: 0 };

  const forget = (payload: string): void => {
    epoch += 1;
    if (HASH.test(payload)) {
      verified.delete(payload);
      refused.delete(payload);
      inFlight.delete(payload);
    } else if (payload.startsWith(OWNER_KEYS_PREFIX)) {
      const ownerId = payload.slice(OWNER_KEYS_PREFIX.length);
      verified.deleteWhere((entry) => entry.ownerId === ownerId);
      // A re-enabled owner's keys may be among the refused ones; which, only the database knows.
      refused.clear();
      inFlight.clear();
    } else {
      // ALL_KEYS (= MISSED_NOTIFICATIONS), or a payload this version does not know: forget everything.
      verified.clear();
      refused.clear();
      inFlight.clear();
    }
  };
  // Listen before anything is cached, so no change can slip between a lookup and its notice.
  const stopListening = await db.listen(API_KEYS_CHANNEL, forget);

  const answer = (entry: Entry, at: number): Consumer | undefined => {
    if (entry.consumer === undefined || entry.expiresAt <= at) return undefined;
    uses.set(entry.keyId, at);
    return entry.consumer;
  };

  const lookUp = (hash: string): Promise<Entry> => {
    const started = epoch;
    const lookup: Promise<Entry> = repo.findActiveByHash(hash, now()).then((key) => {
      const at = now();
      const entry: Entry = key === undefined
        ? { consumer: undefined, keyId: "", ownerId: undefined, expiresAt: 0, staleAt: at + negativeTtlMs }
        : { consumer: consumerOf(key), keyId: key.id, ownerId: key.owner.id, expiresAt: key.expiresAt?.getTime() ?? Infinity, staleAt: at + ttlMs };
      if (epoch === started) {
        // One answer per hash: a stale entry of the other kind must not shadow this one.
        (entry.consumer === undefined ? verified : refused).delete(hash);
        (entry.consumer === undefined ? refused : verified).set(hash, entry);
      }
      return entry;
    }).finally(() => {
      if (inFlight.get(hash) === lookup) inFlight.delete(hash);
    });
    inFlight.set(hash, lookup);
    return lookup;
  };

  const write = async (): Promise<void> => {
    if (uses.size === 0) return;
    const batch = uses;
    uses = new Map();
    try {
      // Each key's own last use, not the batch's latest: a key is never stamped with another's.
      await repo.touchLastUsed([...batch.keys()], [...batch.values()].map((usedAt) => new Date(usedAt)));
    } catch (error) {
      for (const [id, usedAt] of batch) if ((uses.get(id) ?? -Infinity) < usedAt) uses.set(id, usedAt);
      throw error;
    }
  };
  const flush = (): Promise<void> => {
    const next = flushed.then(write);
    flushed = next.catch(() => undefined);
    return next;
  };
  let closed: Promise<void> | undefined;
  const timer = setInterval(() => void flush().catch(onError), options.flushIntervalMs ?? 1_000);
  timer.unref();

  return {
    verify(presentedKey) {
      // Not one of our keys' shapes: refused without hashing, caching or asking the database.
      if (!API_KEY_PATTERN.test(presentedKey)) return undefined;
      const hash = sha256Hex(presentedKey);
      const at = now();
      const entry = verified.get(hash) ?? refused.get(hash);
      if (entry !== undefined && entry.staleAt > at) {
        cacheLookups.hits++;
        return answer(entry, at);
      }
      cacheLookups.misses++;
      return (inFlight.get(hash) ?? lookUp(hash)).then((found) => answer(found, now()));
    },
    known(presentedKey) {
      if (!API_KEY_PATTERN.test(presentedKey)) return undefined;
      const entry = verified.get(sha256Hex(presentedKey));
      const at = now();
      if (entry === undefined || entry.staleAt <= at) return undefined;
      cacheLookups.hits++;
      return answer(entry, at);
    },
    cacheLookups,
    flush,
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        await stopListening();
        await flush();
      })();
      return closed;
    },
  };
}
