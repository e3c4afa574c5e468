/**
 * Brute-force protection for sign-in, counted by Sluice's own limiter (a `RateLimitStore`: the
 * memory store, or Redis so every instance shares the counts). Two limits on *failures*:
 *
 * - `LOGIN_FAILURES_PER_ACCOUNT_IP`: 5 failed sign-ins for one account from one client address
 *   in 15 minutes; a successful sign-in forgets them (`store.reset`). Someone guessing one
 *   person's password gets 5 tries per 15 minutes per address, while the owner, signing in from
 *   elsewhere, is not locked out by it.
 * - `LOGIN_FAILURES_PER_IP`: 100 failed sign-ins from one client address (IPv6: its prefix, as
 *   the gateway counts it) per day, whatever the accounts: spraying one password over many
 *   accounts stops there. A success does not reset it.
 *
 * Algorithm: both are fixed windows that start at a key's first failure, so a spent limit locks
 * the key out until its own window ends and Retry-After is exact (the window's end). Before a
 * password is checked, `reserve` peeks at both limits (cost 0: changes nothing) and refuses when
 * either is spent; otherwise it takes one attempt from the account's limit, in one atomic store
 * call: of N attempts sent at once, only those that fit are admitted, so at most 5 passwords are
 * ever checked and the rest are refused without the password's work. A failure is counted by its
 * reservation, and `failed` adds it to the address's limit; a success forgets the account's
 * failures, its own reservation included (`succeeded`). Unknown accounts count exactly like
 * wrong passwords: the key is the SHA-256 of the normalized address, whether or not an account
 * has it, so the answers cannot tell them apart. Hashing also keeps arbitrary typed text ("{",
 * "|", spaces) out of store keys, where Redis reads a hash tag from braces and Sluice's keys
 * separate parts with "|".
 *
 * Known limit: the address's limit is counted after each failure (a success must not spend it,
 * and a store cannot give a unit back), so attempts at *different* accounts sent at once while it
 * has room are all checked: the address may pass its 100 by as many as the password hasher lets
 * wait (passwords.ts), once, and is then refused for the rest of its day.
 *
 * Time is the store's: the memory store's injected clock, or the Redis server's. A store outage
 * falls back to an in-process count (`onStoreFailure: local`), so sign-in keeps working and keeps
 * being throttled per instance. Instances share the counts only through a shared store (Redis).
 *
 * @example
 * const throttle = loginThrottle(store);
 * const allowance = await throttle.reserve(email, ip);
 * if (!allowance.allowed) return tooMany(allowance.retryAfterSeconds);
 * const user = await accounts.checkPassword(email, password);
 * await (user ? throttle.succeeded(email, ip) : throttle.failed(email, ip));
 */
import { createHash } from "node:crypto";
import type { Decision } from "../limiter/decision.js";
import type { FixedWindowPolicy } from "../limiter/policy.js";
import type { RateLimitStore } from "../stores/store.js";

/**
 * 5 failed sign-ins per (account, client address) per 15 minutes; reset by a success. The name
 * has a dot, which config limit names cannot, so no configured limit shares its keys.
 */
export const LOGIN_FAILURES_PER_ACCOUNT_IP: FixedWindowPolicy = Object.freeze({
  name: "login.account-ip",
  algorithm: "fixed-window",
  limit: 5,
  windowMs: 15 * 60_000,
  onStoreFailure: "local",
});

/** 100 failed sign-ins per client address per day, over all accounts; not reset by a success. */
export const LOGIN_FAILURES_PER_IP: FixedWindowPolicy = Object.freeze({
  name: "login.ip",
  algorithm: "fixed-window",
  limit: 100,
  windowMs: 24 * 60 * 60_000,
  onStoreFailure: "local",
});

/** Whether a sign-in may be tried now: data, never an exception. */
export type LoginAllowance =
  | { readonly allowed: true }
  | {
    readonly allowed: false;
    /** Whole seconds until every spent limit has room again; at least 1. */
    readonly retryAfterSeconds: number;
  };

export interface LoginThrottle {
  /**
   * Before checking a password: takes one attempt from the account's limit, atomically, unless
   * either limit is spent (then nothing changes and the answer says until when).
   */
  reserve(email: string, clientIp: string): Promise<LoginAllowance>;
  /** The password was wrong or the account unknown or disabled: the reservation stands, and the address's limit counts 1. */
  failed(email: string, clientIp: string): Promise<void>;
  /** The password was right: forgets the account's failures from this address, the reservation included. */
  succeeded(email: string, clientIp: string): Promise<void>;
}

export interface LoginThrottleOptions {
  /** Default LOGIN_FAILURES_PER_ACCOUNT_IP. */
  readonly perAccountIp?: FixedWindowPolicy;
  /** Default LOGIN_FAILURES_PER_IP. */
  readonly perIp?: FixedWindowPolicy;
}

/**
 * The counter keys of one sign-in: `<policy>|a=<sha256 of the address>|ip=<ip>` and
 * `<policy>|ip=<ip>`. `clientIp` is an address as the gateway counts it (`addressKey`), never
 * raw request text.
 */
export function loginThrottleKeys(email: string, clientIp: string, options: LoginThrottleOptions = {}): { readonly accountIp: string; readonly ip: string } {
  const perAccountIp = options.perAccountIp ?? LOGIN_FAILURES_PER_ACCOUNT_IP;
  const perIp = options.perIp ?? LOGIN_FAILURES_PER_IP;
  // Normalized as the users table's email_key is: the counter follows the account, not the spelling.
  const account = createHash("sha256").update(email.trim().toLowerCase(), "utf8").digest("hex");
  return { accountIp: `${perAccountIp.name}|a=${account}|ip=${clientIp}`, ip: `${perIp.name}|ip=${clientIp}` };
}

export function loginThrottle(store: RateLimitStore, options: LoginThrottleOptions = {}): LoginThrottle {
  const perAccountIp = options.perAccountIp ?? LOGIN_FAILURES_PER_ACCOUNT_IP;
  const perIp = options.perIp ?? LOGIN_FAILURES_PER_IP;
  return {
    async reserve(email, clientIp) {
      const keys = loginThrottleKeys(email, clientIp, options);
      // A peek at both (cost 0 changes nothing), so that a refusal waits for every spent limit…
      const peek = await store.consume([{ key: keys.accountIp, policy: perAccountIp, cost: 0 }, { key: keys.ip, policy: perIp, cost: 0 }]);
      const spent = peek.decisions.filter((d) => d.remaining <= 0);
      if (spent.length > 0) return refusal(spent, peek.now);
      // …then the reservation, atomic in the store: of attempts sent at once, only those that fit are admitted.
      const reservation = await store.consume([{ key: keys.accountIp, policy: perAccountIp, cost: 1 }]);
      return reservation.allowed ? { allowed: true } : refusal(reservation.decisions, reservation.now);
    },

    async failed(email, clientIp) {
      // Refused only when concurrent failures spent the address's limit first: it is over it anyway.
      await store.consume([{ key: loginThrottleKeys(email, clientIp, options).ip, policy: perIp, cost: 1 }]);
    },

    async succeeded(email, clientIp) {
      await store.reset(loginThrottleKeys(email, clientIp, options).accountIp);
    },
  };
}

/** A refusal until the last of the spent limits has room again. */
export function refusal(spent: readonly Decision[], now: number): LoginAllowance {
  const waitMs = Math.max(...spent.map((d) => d.retryAfterMs ?? d.resetAt - now));
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}
