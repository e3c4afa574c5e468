/**
 * Ad-hoc limits: the ones a caller states in the request (`{ identifier, limit, duration,
 * algorithm, namespace }`, and a GCRA `burst` or a token bucket's `capacity`) rather than names
 * from the config. Turns one into the store's LimitCheck, within bounds that keep a stranger's
 * request from costing the store much.
 *
 * Counters. The key is `svc-adhoc:<namespace>:<algorithm>:<limit>:<window ms>|<identifier>`: the
 * namespace separates applications that share identifiers; the algorithm is in it because each
 * algorithm keeps state of another shape; and the limit and window are in it because an ad-hoc
 * limit is defined by the caller's numbers, so two callers that ask "10 a minute" and "1000 an
 * hour" of one identifier keep two counters rather than misreading each other's. A burst or a
 * capacity other than the limit adds `:<burst or capacity>` after the window, for the same
 * reason; one equal to the limit is the default and keeps the key it always had. The identifier,
 * URI-encoded, is the part after `|`, which the Redis store makes the key's hash tag: every
 * limit of one identifier lives in one Redis Cluster slot, so a call checking several of them
 * stays one atomic script. Gateway keys begin with a limit's name, which cannot contain `:`.
 *
 * Policies are interned by their parameters, so equal requests share one Policy object: the
 * failover store's over-limit cache recognises a denied limit by its policy's identity.
 *
 * @example
 * adHocCheck({ namespace: "emails", identifier: "user-42", algorithm: "gcra", limit: 100, windowMs: 60_000, cost: 1 });
 * // → { key: "svc-adhoc:emails:gcra:100:60000|user-42", policy: { name: "emails", algorithm: "gcra", … }, cost: 1 }
 */
import type { LimitCheck, Policy } from "../limiter/policy.js";

/** The algorithms an ad-hoc limit may use: every rate algorithm; concurrency needs leases, which this API does not take. */
export const AD_HOC_ALGORITHMS = ["gcra", "token-bucket", "sliding-window-log", "sliding-window-counter", "fixed-window"] as const;
export type AdHocAlgorithm = (typeof AD_HOC_ALGORITHMS)[number];

/** Bounds on what a caller may ask for. */
export const AD_HOC_BOUNDS = {
  /** Most units per window. */
  maxLimit: 1_000_000,
  /** A sliding-window log keeps one timestamp per unit in its window, so its limit is held lower. */
  maxLogLimit: 10_000,
  /** Longest window: a year, enough for a yearly quota. */
  maxWindowMs: 366 * 86_400_000,
  /** Longest identifier, in characters. */
  maxIdentifierLength: 256,
} as const;

/** The namespace of an ad-hoc limit that names none. */
export const DEFAULT_NAMESPACE = "default";

/** The first part of every ad-hoc counter key. */
export const AD_HOC_KEY_PREFIX = "svc-adhoc:";

export interface AdHocLimit {
  readonly namespace: string;
  readonly identifier: string;
  readonly algorithm: AdHocAlgorithm;
  readonly limit: number;
  readonly windowMs: number;
  /** gcra: units that may arrive at once; `limit` when absent. */
  readonly burst?: number;
  /** token-bucket: tokens the bucket holds; `limit` when absent. */
  readonly capacity?: number;
  readonly cost: number;
}

/** Distinct (namespace, algorithm, limit, window, burst or capacity) policies kept; past it the table starts afresh. */
const MAX_INTERNED = 10_000;
const interned = new Map<string, Policy>();

export function adHocCheck(spec: AdHocLimit): LimitCheck {
  const size = sizeOf(spec);
  const shape = `${AD_HOC_KEY_PREFIX}${spec.namespace}:${spec.algorithm}:${spec.limit}:${spec.windowMs}${size === spec.limit ? "" : `:${size}`}`;
  let policy = interned.get(shape);
  if (policy === undefined) {
    if (interned.size >= MAX_INTERNED) interned.clear();
    interned.set(shape, (policy = adHocPolicy(spec)));
  }
  return { key: `${shape}|${encodeURIComponent(spec.identifier)}`, policy, cost: spec.cost };
}

/** Units that may arrive at once: a GCRA burst or a token bucket's capacity (`limit` unless stated); the limit for the others. */
function sizeOf({ algorithm, limit, burst, capacity }: AdHocLimit): number {
  if (algorithm === "gcra") return burst ?? limit;
  if (algorithm === "token-bucket") return capacity ?? limit;
  return limit;
}

/**
 * A GCRA burst and a token bucket's capacity are the caller's, `limit` when not stated. When the
 * store cannot answer, an ad-hoc limit fails closed: the API answers 503, and the caller's own
 * failure policy decides.
 */
function adHocPolicy(spec: AdHocLimit): Policy {
  const { namespace, algorithm, limit, windowMs } = spec;
  const common = { name: namespace, limit, windowMs, onStoreFailure: "closed" } as const;
  if (algorithm === "token-bucket") return { ...common, algorithm, capacity: sizeOf(spec) };
  if (algorithm === "gcra" && spec.burst !== undefined && spec.burst !== limit) return { ...common, algorithm, burst: spec.burst };
  return { ...common, algorithm };
}
