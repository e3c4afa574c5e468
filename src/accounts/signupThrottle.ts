/**
 * A bound on sign-ups per client address, counted by Sluice's own limiter like the sign-in
 * throttle (loginThrottle.ts): `SIGNUPS_PER_IP`, 20 per address (IPv6: its prefix) per hour. Every
 * sign-up that gets past its body's validation counts, made or refused as taken, since each is
 * worth something to whoever floods it: a new password's scrypt work (passwords.ts gives
 * sign-ups a gate of their own, so a flood cannot slow sign-ins either), an account, or the
 * answer whether an address has an account (which sign-up, without mail to confirm it, cannot
 * hide: docs/security.md).
 *
 * The attempt is reserved before any work, in one atomic store call: of N sign-ups sent at once,
 * only those that fit are admitted. A fixed window from the address's first sign-up; a store
 * outage falls back to an in-process count (`onStoreFailure: local`).
 *
 * @example
 * const signups = signupThrottle(store);
 * const allowance = await signups.reserve(ip);
 * if (!allowance.allowed) return tooMany(allowance.retryAfterSeconds);
 */
import type { FixedWindowPolicy } from "../limiter/policy.js";
import type { RateLimitStore } from "../stores/store.js";
import { refusal, type LoginAllowance } from "./loginThrottle.js";

/** 20 sign-ups per client address per hour. The dot keeps configured limits off its keys. */
export const SIGNUPS_PER_IP: FixedWindowPolicy = Object.freeze({
  name: "signup.ip",
  algorithm: "fixed-window",
  limit: 20,
  windowMs: 60 * 60_000,
  onStoreFailure: "local",
});

export interface SignupThrottle {
  /** Takes one sign-up from the address's allowance, or says until when it has none. */
  reserve(clientIp: string): Promise<LoginAllowance>;
}

/** The counter key of an address's sign-ups: `signup.ip|ip=<ip>`. `clientIp` is an address as the gateway counts it (`addressKey`), never raw request text. */
export function signupThrottleKey(clientIp: string, policy: FixedWindowPolicy = SIGNUPS_PER_IP): string {
  return `${policy.name}|ip=${clientIp}`;
}

export function signupThrottle(store: RateLimitStore, policy: FixedWindowPolicy = SIGNUPS_PER_IP): SignupThrottle {
  return {
    async reserve(clientIp) {
      const verdict = await store.consume([{ key: signupThrottleKey(clientIp, policy), policy, cost: 1 }]);
      return verdict.allowed ? { allowed: true } : refusal(verdict.decisions, verdict.now);
    },
  };
}
