/**
 * Envoy's `ShouldRateLimit`, decided with Sluice's named policies: the request's domain names a
 * policy, each descriptor is resolved by the service's policy book (descriptorPolicies.ts, the
 * same resolver as the HTTP API's `{ policy, identifier }`), and every limited descriptor is
 * decided in ONE store call, all or nothing: when any descriptor is over its limit, none is
 * consumed, and the overall code is OVER_LIMIT.
 *
 * Per descriptor, in the request's order: OVER_LIMIT when its enforced limit refused (a shadow
 * limit never does), else OK; `current_limit` (the limit as requests per unit of time, named after
 * the rule), `limit_remaining` and `duration_until_reset` when a limit matched; only OK when the
 * descriptor matched a rule without a limit or no rule at all (Envoy's own service answers both so).
 *
 * Overrides: a descriptor's own `limit` (Envoy's `RateLimitOverride`) is applied as Envoy's
 * reference service applies it (descriptorPolicies.ts's overriddenLimit): that many requests per
 * unit, whatever rule the descriptor matches, and its `current_limit` states it as sent. An
 * override Sluice cannot apply exactly is INVALID_ARGUMENT, never ignored: no unit (UNKNOWN), a
 * unit Sluice does not know, or 0 requests per unit.
 *
 * Units: a descriptor's own `hits_addend` when set (0 reads without consuming), else the
 * request's, where 0 (unset) means 1.
 *
 * Envoy states a limit as requests per SECOND, MINUTE, HOUR or DAY. A window that is one of these
 * is stated exactly; any other is stated per the smallest unit that holds it, the limit scaled to
 * that unit and rounded (5 per 30 s reads 10 per MINUTE): Envoy uses it only for the
 * X-RateLimit-Limit header it may add, never to decide.
 */
import type { Decision, Verdict } from "../../limiter/decision.js";
import type { LimitCheck, Policy } from "../../limiter/policy.js";
import { descriptorCheck, OVERRIDE_UNITS, overriddenLimit, type DescriptorEntry, type LimitOverride, type OverrideUnit, type PolicyBook } from "../descriptorPolicies.js";
import { TEXT_PROBLEM } from "./requestText.js";

/** A RateLimitRequest as proto-loader decodes it (keepCase, longs as numbers, enums as strings). */
export interface RateLimitRequestMessage {
  readonly domain?: string;
  readonly descriptors?: readonly {
    readonly entries?: readonly { readonly key?: string; readonly value?: string }[] | null;
    readonly limit?: { readonly requests_per_unit?: number | null; readonly unit?: string | number | null } | null;
    readonly hits_addend?: { readonly value?: number | string | null } | null;
  }[] | null;
  readonly hits_addend?: number | null;
  /** Set by the server's decoder: its first string whose bytes were not UTF-8, or why its bytes could not be checked (requestText.ts). */
  readonly [TEXT_PROBLEM]?: string;
}

export type Code = "OK" | "OVER_LIMIT";
export type Unit = "SECOND" | "MINUTE" | "HOUR" | "DAY" | OverrideUnit;

export interface DescriptorStatusMessage {
  readonly code: Code;
  readonly current_limit?: { readonly requests_per_unit: number; readonly unit: Unit; readonly name: string };
  readonly limit_remaining: number;
  readonly duration_until_reset?: { readonly seconds: number; readonly nanos: number };
}

export interface RateLimitResponseMessage {
  readonly overall_code: Code;
  readonly statuses: readonly DescriptorStatusMessage[];
}

/** Bounds on a request, so one call cannot make the store do unbounded work. */
export const RLS_BOUNDS = { maxDescriptors: 64, maxEntries: 16, maxKeyLength: 128, maxValueLength: 1024, maxHits: 1_000_000 } as const;

/** A request Sluice will not decide: the message says why, for Envoy's log. */
export class InvalidRateLimitRequest extends Error {
  override readonly name = "InvalidRateLimitRequest";
  constructor(message: string, readonly unknownDomain = false) {
    super(message);
  }
}

/** What one request asks of the store: its checks, and which descriptor each belongs to. */
export interface PlannedDecision {
  readonly checks: readonly LimitCheck[];
  /** Per descriptor, the index of its check in `checks`, or -1 when nothing limits it. */
  readonly checkOf: readonly number[];
  /** Per check, the unit of the descriptor's override, stated as sent; undefined for a configured limit. */
  readonly overrideUnits?: readonly (OverrideUnit | undefined)[];
  /** What every check is about, for the metrics: the domain's policy. */
  readonly subject: { readonly policy: string };
}

/** Resolves every descriptor; throws InvalidRateLimitRequest for an unknown domain or a malformed request. */
export function planDecision(book: PolicyBook, request: RateLimitRequestMessage): PlannedDecision {
  const textProblem = request[TEXT_PROBLEM];
  if (textProblem !== undefined) throw new InvalidRateLimitRequest(textProblem);
  const domain = request.domain ?? "";
  if (domain === "") throw new InvalidRateLimitRequest("domain is required");
  if (!book.has(domain)) throw new InvalidRateLimitRequest(`no policy named "${domain}"; configured policies: ${book.domains.join(", ") || "none"}`, true);
  const descriptors = request.descriptors ?? [];
  if (descriptors.length === 0) throw new InvalidRateLimitRequest("descriptors: at least one descriptor is required");
  if (descriptors.length > RLS_BOUNDS.maxDescriptors) throw new InvalidRateLimitRequest(`descriptors: at most ${RLS_BOUNDS.maxDescriptors} descriptors`);
  const requestHits = hits(request.hits_addend ?? 0, "hits_addend") || 1;
  const checks: LimitCheck[] = [];
  const overrideUnits: (OverrideUnit | undefined)[] = [];
  const checkOf = descriptors.map((descriptor, i) => {
    const entries = descriptorEntries(descriptor.entries ?? [], i);
    const own = descriptor.hits_addend;
    const cost = own === null || own === undefined ? requestHits : hits(Number(own.value ?? 0), `descriptors[${i}].hits_addend`);
    const override = limitOverride(descriptor.limit, i);
    const resolved = book.resolve(domain, entries)!;
    const limit = override === undefined ? resolved : overriddenLimit(domain, entries, resolved, override);
    if (limit.kind !== "limited") return -1;
    checks.push(descriptorCheck(limit, cost));
    overrideUnits.push(override?.unit);
    return checks.length - 1;
  });
  return { checks, checkOf, overrideUnits, subject: { policy: domain } };
}

/**
 * The response for a planned request and the store's verdict on its checks (none: nothing was
 * limited). The statuses come from the verdict's decisions, unless `state` is given: a verdict
 * from the failover store's over-limit cache lists only the denials it remembers, so the caller
 * reads every check's state at cost 0 and passes that read; a descriptor is then over when it
 * has fewer units than it costs.
 */
export function responseFor(plan: PlannedDecision, verdict: Verdict | undefined, state = verdict): RateLimitResponseMessage {
  const fromCache = verdict?.via === "over-limit-cache";
  const statuses = plan.checkOf.map((index): DescriptorStatusMessage => {
    const decision = index < 0 ? undefined : state?.decisions[index];
    if (decision === undefined) return { code: "OK", limit_remaining: 0 };
    const over = decision.policy.shadow !== true && (!decision.allowed || (fromCache && decision.remaining < plan.checks[index]!.cost));
    return {
      code: over ? "OVER_LIMIT" : "OK",
      current_limit: envoyLimit(decision.policy, plan.overrideUnits?.[index]),
      limit_remaining: decision.remaining,
      duration_until_reset: durationUntil(decision, state!.now),
    };
  });
  return { overall_code: verdict?.allowed === false ? "OVER_LIMIT" : "OK", statuses };
}

const UNITS: readonly (readonly [Unit, number])[] = [["SECOND", 1_000], ["MINUTE", 60_000], ["HOUR", 3_600_000], ["DAY", 86_400_000]];

/** The policy as requests per unit (see the header for windows that are not one unit); an override's as sent. */
export function envoyLimit(policy: Policy, overrideUnit?: OverrideUnit): NonNullable<DescriptorStatusMessage["current_limit"]> {
  if (overrideUnit !== undefined) return { requests_per_unit: policy.limit, unit: overrideUnit, name: policy.name };
  const [unit, unitMs] = UNITS.find(([, ms]) => ms >= policy.windowMs) ?? UNITS[UNITS.length - 1]!;
  const requests = policy.windowMs === unitMs ? policy.limit : Math.max(1, Math.round((policy.limit * unitMs) / policy.windowMs));
  return { requests_per_unit: requests, unit, name: policy.name };
}

function durationUntil(decision: Decision, now: number): { seconds: number; nanos: number } {
  // A denied descriptor is whole again later than it may retry; Envoy reads this as "retry in".
  // Whole ms, rounded up: a pace such as 7 a minute resets at a fraction of one, and nanos is an int32.
  const ms = Math.ceil(Math.max(0, decision.allowed ? decision.resetAt - now : decision.retryAfterMs ?? decision.resetAt - now));
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

function hits(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > RLS_BOUNDS.maxHits) throw new InvalidRateLimitRequest(`${field}: at most ${RLS_BOUNDS.maxHits}`);
  return value;
}

/** A descriptor's `limit`, checked; undefined when it sends none. */
function limitOverride(limit: NonNullable<RateLimitRequestMessage["descriptors"]>[number]["limit"], index: number): LimitOverride | undefined {
  if (limit === null || limit === undefined) return undefined;
  const field = `descriptors[${index}].limit`;
  const unit = limit.unit ?? "UNKNOWN";
  if (typeof unit !== "string" || !Object.hasOwn(OVERRIDE_UNITS, unit)) {
    throw new InvalidRateLimitRequest(`${field}.unit: one of ${Object.keys(OVERRIDE_UNITS).join(", ")} (got ${String(unit)}); Sluice applies an override exactly or not at all`);
  }
  const requestsPerUnit = Number(limit.requests_per_unit ?? 0);
  if (!Number.isSafeInteger(requestsPerUnit) || requestsPerUnit < 1) {
    throw new InvalidRateLimitRequest(`${field}.requests_per_unit: at least 1 (an override of 0 would refuse every request; leave the descriptor out instead)`);
  }
  return { requestsPerUnit, unit: unit as OverrideUnit };
}

function descriptorEntries(entries: readonly { readonly key?: string; readonly value?: string }[], index: number): DescriptorEntry[] {
  if (entries.length === 0) throw new InvalidRateLimitRequest(`descriptors[${index}].entries: at least one entry is required`);
  if (entries.length > RLS_BOUNDS.maxEntries) throw new InvalidRateLimitRequest(`descriptors[${index}].entries: at most ${RLS_BOUNDS.maxEntries} entries`);
  return entries.map(({ key = "", value = "" }, j) => {
    if (key === "" || key.length > RLS_BOUNDS.maxKeyLength) throw new InvalidRateLimitRequest(`descriptors[${index}].entries[${j}].key: 1 to ${RLS_BOUNDS.maxKeyLength} characters`);
    if (value.length > RLS_BOUNDS.maxValueLength) throw new InvalidRateLimitRequest(`descriptors[${index}].entries[${j}].value: at most ${RLS_BOUNDS.maxValueLength} characters`);
    return { key, value };
  });
}
