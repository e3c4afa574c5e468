/**
 * Concurrency: at most `limit` units in flight at once. Each admitted request holds a lease,
 * given back when its response ends or its client goes away; a lease never given back (a gateway
 * that crashed) lapses after the policy's window, so a lost release cannot shrink the limit for
 * ever. State per key: the live leases.
 */
import { costExceedsCapacity, type Algorithm } from "../../algorithm.js";
import type { ConcurrencyPolicy } from "../../policy.js";

/** [lease, units, expiresAt] */
export type Lease = readonly [lease: string, units: number, expiresAt: number];

/** When a slot frees is unknowable; clients are told to try again in a second. */
export const CONCURRENCY_RETRY_MS = 1000;

export const concurrency: Algorithm<readonly Lease[], ConcurrencyPolicy> = {
  name: "concurrency",
  decide(leases = [], policy, now, cost, lease = "") {
    const { limit, windowMs } = policy;
    const live = leases.filter((l) => l[2] > now);
    let used = 0;
    for (const l of live) used += l[1];
    const lastExpiry = live.reduce((latest, l) => Math.max(latest, l[2]), now);

    if (cost > limit) return { decision: costExceedsCapacity(policy, Math.max(0, limit - used), lastExpiry), state: live, expiresAt: lastExpiry };
    if (used + cost <= limit) {
      // A lease id is often a rope of concatenated strings (randomUUID builds one of about 20):
      // reading a character flattens it once, so the lease holds 36 characters, not 20 rope nodes.
      if (cost !== 0) lease.charCodeAt(0);
      const next: readonly Lease[] = cost === 0 ? live : [...live, [lease, cost, now + windowMs]];
      const expiresAt = cost === 0 ? lastExpiry : now + windowMs;
      return { decision: { policy, allowed: true, limit, remaining: limit - used - cost, resetAt: expiresAt }, state: next, expiresAt };
    }
    const decision = { policy, allowed: false, limit, remaining: Math.max(0, limit - used), resetAt: lastExpiry, retryAfterMs: CONCURRENCY_RETRY_MS };
    return { decision, state: live, expiresAt: lastExpiry };
  },
  release(leases = [], policy, now, lease) {
    const live = leases.filter((l) => l[2] > now && l[0] !== lease);
    const expiresAt = live.reduce((latest, l) => Math.max(latest, l[2]), now);
    return { decision: { policy, allowed: true, limit: policy.limit, remaining: policy.limit - live.reduce((sum, l) => sum + l[1], 0), resetAt: expiresAt }, state: live, expiresAt };
  },
};
