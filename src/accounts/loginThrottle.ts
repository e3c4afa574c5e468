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
 * the key out until its own window ends and Retry-After is exact (the window's end). The login
 * path peeks before checking a password (`check`: cost 0, which changes nothing and writes
 * nothing) and refuses without doing the password's work when either limit is spent; after a
 * failure it consumes 1 on both (`failed`); after a success it resets the account's counter
 * (`succeeded`). Unknown accounts count exactly like wrong passwords: the key is the SHA-256 of
 * the normalized address, whether or not an account has it, so the answers cannot tell them
 * apart. Hashing also keeps arbitrary typed text ("{", "|", spaces) out of store keys, where
 * Redis reads a hash tag from braces and Sluice's keys separate parts with "|".
 *
 * Known limit: a peek and the failure that follows are two store calls, so N attempts sent at
 * once all pass the peek; at most the password hasher's queue (passwords.ts) of them are checked
 * before the counters catch up, and the next attempt is refused.
 *
 * Time is the store's: the memory store's injected clock, or the Redis server's. A store outage
 * falls back to an in-process count (`onStoreFailure: local`), so sign-in keeps working and keeps
 * being throttled per instance.
 *
 * @example
 * const throttle = loginThrottle(store);
 * const allowance = await throttle.check(email, ip);
 * if (!allowance.allowed) return tooMany(allowance.retryAfterSeconds);
 * const user = await accounts.checkPassword(email, password);
 * await (user ? throttle.succeeded(email, ip) : throttle.failed(email, ip));
 */
import { createHash } from "node:crypto";
import type { Decision } from "../limiter/decision.js";
import type { FixedWindowPolicy, LimitCheck } from "../limiter/policy.js";
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
    /** The spent limits' names. */
    readonly limits: readonly string[];
  };

export interface LoginThrottle {
  /** Before checking a password: whether one of the limits is spent (changes no count). */
  check(email: string, clientIp: string): Promise<LoginAllowance>;
  /** The password was wrong or the account unknown or disabled: counts 1 on both limits. */
  failed(email: string, clientIp: string): Promise<void>;
  /** The password was right: forgets the account's failures from this address. */
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
  const checks = (email: string, clientIp: string, cost: number): LimitCheck[] => {
    const keys = loginThrottleKeys(email, clientIp, options);
    return [{ key: keys.accountIp, policy: perAccountIp, cost }, { key: keys.ip, policy: perIp, cost }];
  };

  return {
    async check(email, clientIp) {
      const verdict = await store.consume(checks(email, clientIp, 0));
      // A peek is always admitted; a limit is spent when it has nothing left.
      const spent = verdict.decisions.filter((d) => d.remaining <= 0 || !d.allowed);
      return spent.length === 0 ? { allowed: true } : refusal(spent, verdict.now);
    },

    async failed(email, clientIp) {
      // Refused only when a concurrent failure spent a limit first: then it is counted already.
      await store.consume(checks(email, clientIp, 1));
    },

    async succeeded(email, clientIp) {
      await store.reset(loginThrottleKeys(email, clientIp, options).accountIp);
    },
  };
}

/** A refusal naming the spent limits, until the last of them has room again. */
export function refusal(spent: readonly Decision[], now: number): LoginAllowance {
  const waitMs = Math.max(...spent.map((d) => d.retryAfterMs ?? d.resetAt - now));
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), limits: spent.map((d) => d.policy.name) };
}
