/**
 * Throttles key guessing (config: server.invalidKeys). Every API key or session cookie the
 * authenticate stage refuses counts against the client address (IPv6: its prefix, as every
 * per-address limit counts it) in Sluice's own limiter store, so with Redis every instance
 * shares the count. Once an address has spent its allowance (`limit` in a fixed window that
 * starts at its first invalid key), this instance holds it as blocked until the window ends: its
 * keys are not looked up any more, so random well-formed keys cost the database nothing, and it
 * is answered 429 `too-many-invalid-keys` with Retry-After. A credential that memory vouches for
 * (a config key, a database key verified in the last 30 s, a session looked up in the last 2 s)
 * still passes, so a noisy neighbour behind the same address cannot lock out callers it knows.
 *
 * Why blocked addresses are held here rather than read from the store per request: the check
 * is on the path of every request that carries a credential, where a local lookup costs nothing;
 * the store is asked only when a key has failed. Another instance learns of the block at the next
 * failure it sees from that address (the shared count is spent by then), so each instance looks
 * up at most one more key per address and window.
 *
 * Known limit: a failure counts once it is known, so keys sent at the same moment are all looked
 * up before the first of them counts; the allowance is then exceeded by at most that many.
 *
 * @example
 * const throttle = invalidKeyThrottle(store, { limit: 30, window: 60_000 }, { ipv6Prefix: 64 });
 * throttle.blockedFor("203.0.113.9"); // → undefined, or seconds to wait
 * await throttle.failed("203.0.113.9"); // after a refused key
 */
import type { Verdict } from "../limiter/decision.js";
import type { FixedWindowPolicy } from "../limiter/policy.js";
import type { RateLimitStore } from "../stores/store.js";
import { addressKey } from "../limits/addressKey.js";

export interface InvalidKeyThrottle {
  /** Whole seconds until the address may send keys again; undefined when it may now. No I/O. */
  blockedFor(clientIp: string): number | undefined;
  /** Counts a refused key of the address, and holds the address as blocked once its allowance is spent. */
  failed(clientIp: string): void | Promise<void>;
}

export interface InvalidKeyAllowance {
  readonly limit: number;
  /** Milliseconds. */
  readonly window: number;
}

export interface InvalidKeyThrottleOptions {
  /** server.ipv6Prefix. */
  readonly ipv6Prefix: number;
  /** Milliseconds since the epoch, for how long an address stays blocked (default Date.now). */
  readonly now?: (() => number) | undefined;
}

/** The first part of every counter key; its dot keeps it apart from config limits' names. */
export const INVALID_KEYS_LIMIT_NAME = "auth.invalid-keys";

/** Most blocked addresses held; past it the one blocked longest ago is let go (one more lookup, then blocked again). */
const MAX_BLOCKED = 10_000;

export function invalidKeyThrottle(store: RateLimitStore, allowance: InvalidKeyAllowance, options: InvalidKeyThrottleOptions): InvalidKeyThrottle {
  const now = options.now ?? Date.now;
  // A store outage keeps throttling, per instance (the failover store's in-process fallback).
  const policy: FixedWindowPolicy = Object.freeze({ name: INVALID_KEYS_LIMIT_NAME, algorithm: "fixed-window", limit: allowance.limit, windowMs: allowance.window, onStoreFailure: "local" });
  /** Address key → when it may send keys again, on this instance's clock. */
  const blocked = new Map<string, number>();

  const block = (address: string, verdict: Verdict): void => {
    const decision = verdict.decisions[0];
    if (decision === undefined || (decision.allowed && decision.remaining > 0)) return;
    blocked.delete(address);
    if (blocked.size >= MAX_BLOCKED) blocked.delete(blocked.keys().next().value!);
    // The wait the store states (a denial: the failover store's over-limit cache states it on our
    // clock, with resetAt on the store's), else the window's end as a wait from the store's now.
    blocked.set(address, now() + Math.max(1, decision.retryAfterMs ?? decision.resetAt - verdict.now));
  };

  return {
    blockedFor(clientIp) {
      if (blocked.size === 0) return undefined;
      const address = addressKey(clientIp, options.ipv6Prefix);
      const until = blocked.get(address);
      if (until === undefined) return undefined;
      const left = until - now();
      if (left > 0) return Math.ceil(left / 1000);
      blocked.delete(address);
      return undefined;
    },
    failed(clientIp) {
      const address = addressKey(clientIp, options.ipv6Prefix);
      const verdict = store.consume([{ key: `${INVALID_KEYS_LIMIT_NAME}|ip=${address}`, policy, cost: 1 }]);
      if (verdict instanceof Promise) return verdict.then((v) => block(address, v));
      block(address, verdict);
    },
  };
}
