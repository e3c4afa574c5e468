/**
 * What the client sends and receives: the checks of `POST /v1/ratelimit`, its answers as typed
 * data, and the result the failure policy gives when the service does not answer. Types and small
 * pure functions, shared with the middlewares.
 *
 * The answer's types are written out here rather than inferred from the service's zod schema
 * (src/service/decisionRequest.ts), so the published client's declarations name no server module
 * and need no zod; test/client/resultTypes.test.ts holds them equal to the schema's at compile time.
 * A check is ad-hoc or named, never both: each kind forbids the other's fields (`?: never`), so a
 * mix that the service would answer with a 400 does not type-check.
 */
import type { AlgorithmName } from "../limiter/policy.js";

/** A duration as the service reads it, "500ms", "30s", "1m", "2h", "1d", or a number of milliseconds. */
export type Duration = `${number}${"ms" | "s" | "m" | "h" | "d"}` | number;

/** A limit the caller states itself: `limit` units per `duration`, counted per `identifier`. */
export interface InlineLimitRequest {
  readonly identifier: string;
  readonly limit: number;
  readonly duration: Duration;
  /** Default "gcra"; concurrency is not offered (the service takes no leases). See docs/algorithms.md. */
  readonly algorithm?: Exclude<AlgorithmName, "concurrency">;
  /** gcra only: units that may arrive at once (default `limit`). */
  readonly burst?: number;
  /** token-bucket only: tokens the bucket holds (default `limit`); `limit` tokens refill per `duration`. */
  readonly capacity?: number;
  /** Units this call takes (default 1). */
  readonly cost?: number;
  /** Keeps counters of different limits on the same identifier apart, e.g. "emails" (default "default"). */
  readonly namespace?: string;
  /** An ad-hoc check names no policy. */
  readonly policy?: never;
  readonly descriptor?: never;
}

/** One entry of a named policy's descriptor (Envoy's shape). */
export interface DescriptorEntry {
  readonly key: string;
  readonly value: string;
}

/** The fields only an ad-hoc limit states (its numbers), which a named one may not. */
export type InlineLimitFields = Exclude<keyof InlineLimitRequest, "identifier" | "cost" | "policy" | "descriptor">;

/** Forbids the fields `K`: a value of this type leaves each of them out. */
export type Without<K extends PropertyKey> = { readonly [P in K]?: never };

/** A limit the operator configured under a name (docs/ratelimit-service.md, named policies); its numbers are the policy's. */
export type PolicyLimitRequest = {
  readonly policy: string;
  /** Units this call takes (default 1). */
  readonly cost?: number;
} & Without<InlineLimitFields> & (
  /** The value of the policy's "identifier" entry, after any `descriptor` entries. */
  | { readonly identifier: string; readonly descriptor?: readonly DescriptorEntry[] }
  | { readonly identifier?: undefined; readonly descriptor: readonly DescriptorEntry[] }
);

export type LimitRequest = InlineLimitRequest | PolicyLimitRequest;

/** Why the failure policy answered instead of the service. */
export type FailureReason = "timeout" | "unreachable" | "service-error" | "bad-answer";

export interface ServiceFailure {
  /** The policy that answered: `open` admitted, `closed` refused. */
  readonly policy: "open" | "closed";
  readonly reason: FailureReason;
  readonly message: string;
}

/**
 * A decision of a limit. A denial is a result (`allowed: false`), never an error. `failure` is set
 * only when the service did not answer and the failure policy decided.
 */
export interface LimitResult {
  /** Whether the call is admitted. */
  readonly allowed: boolean;
  /** Units per window. */
  readonly limit: number;
  /** Units left: after this call when admitted, as they stand when denied. */
  readonly remaining: number;
  /** Unix time in ms at which the limit is whole again if nothing more arrives. */
  readonly reset: number;
  /** When denied: seconds to wait before the same call would be admitted (at least 1). */
  readonly retryAfter?: number | undefined;
  /** When denied because the cost is larger than the limit can ever admit at once. */
  readonly reason?: "cost-exceeds-limit" | undefined;
  readonly failure?: ServiceFailure;
}

/** A named policy's rule without a limit, or no rule for the descriptor: nothing limits the call. */
export interface UnlimitedResult {
  readonly allowed: true;
  readonly unlimited: true;
  readonly failure?: never;
}

export type RateLimitResult = LimitResult | UnlimitedResult;

/** Several checks decided together: the binding one's numbers at the top, and each check's own result. */
export type RateLimitBatchResult = RateLimitResult & {
  /** In the order of the requests. */
  readonly checks: readonly RateLimitResult[];
};

/** Seconds a `closed` failure policy tells the caller to wait. */
export const FAILURE_RETRY_AFTER_SECONDS = 1;

/**
 * The failure policy's answer to `request`: `open` admits with the limit's full allowance (as far
 * as the client knows it: a named policy's limit lives in the service, so it reads 0), `closed`
 * refuses for a second.
 */
export function failureResult(request: LimitRequest, failure: ServiceFailure, now: number): LimitResult {
  const limit = request.limit ?? 0;
  return failure.policy === "open"
    ? { allowed: true, limit, remaining: limit, reset: now, failure }
    : { allowed: false, limit, remaining: 0, reset: now + FAILURE_RETRY_AFTER_SECONDS * 1000, retryAfter: FAILURE_RETRY_AFTER_SECONDS, failure };
}

/** Whether `value` has the shape of one of the service's results. */
export function isResult(value: unknown): value is RateLimitResult {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v["unlimited"] === true) return v["allowed"] === true;
  return typeof v["allowed"] === "boolean" && typeof v["limit"] === "number" && typeof v["remaining"] === "number" && typeof v["reset"] === "number"
    && (v["retryAfter"] === undefined || typeof v["retryAfter"] === "number");
}

/** Whether `value` has the shape of the service's answer to several checks. */
export function isBatchResult(value: unknown): value is RateLimitBatchResult {
  const checks = typeof value === "object" && value !== null ? (value as { checks?: unknown }).checks : undefined;
  return isResult(value) && Array.isArray(checks) && checks.every(isResult);
}
