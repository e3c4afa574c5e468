/**
 * Stage 5, limit: every limit of the route is checked at once through the store, each taking the
 * route's cost; the request goes on only if all enforced limits admit it. Admitted requests carry
 * `RateLimit`/`RateLimit-Policy` to the client; refused ones get 429 (or 503 when a limit that
 * fails closed could not be checked) with `Retry-After`. Concurrency leases are given back when
 * the response ends or the client goes away; shadow refusals are logged, never enforced. Every
 * decision is counted by limit and outcome in the metrics (observability/metrics.ts). A consumer
 * on a plan also meets the plan's limits, in the same all-or-nothing decision. Each request is
 * also counted, allowed or limited, for its caller's usage (src/usage/usageRecorder.ts: in memory).
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { bindingDecision, isAnnounced, legacyRateLimitHeaders, rateLimitHeader, retryAfterSeconds } from "../../limiter/headers.js";
import type { Verdict } from "../../limiter/decision.js";
import type { LeaseRelease, LimitCheck } from "../../limiter/policy.js";
import type { LimiterMetrics } from "../../observability/metrics.js";
import { problems } from "../../problems/catalogue.js";
import type { RateLimitStore } from "../../stores/store.js";
import type { UsageRecorder } from "../../usage/usageRecorder.js";
import type { Exchange, Rejection, Stage } from "../exchange.js";
import type { CompiledPlan, PlanLimits } from "../../accounts/planLimits.js";
import type { CompiledRoute } from "../routeTable.js";

/** The limits a request is checked against, and their `RateLimit-Policy` header. */
type RouteLimits = Pick<CompiledRoute, "limits" | "policyHeader">;

export interface LimitOptions {
  readonly store: RateLimitStore;
  readonly logger: Logger;
  /** Also send X-RateLimit-Limit/Remaining/Reset. */
  readonly legacyHeaders?: boolean;
  /** Where decisions are counted; none when undefined. */
  readonly metrics?: LimiterMetrics | undefined;
  /** The limits of each plan, checked with the route's for consumers on that plan. */
  readonly plans?: PlanLimits | undefined;
  /** Where each decided request is counted per caller and minute (src/usage/); none when undefined. */
  readonly usage?: Pick<UsageRecorder, "record"> | undefined;
}

export function limit({ store, logger, legacyHeaders = false, metrics, plans, usage }: LimitOptions): Stage {
  function enforce(exchange: Exchange, checks: readonly LimitCheck[], verdict: Verdict, policyHeader: string): Rejection | undefined {
    metrics?.record(verdict);
    exchange.verdict = verdict;
    if (exchange.consumer !== undefined) usage?.record(exchange.consumer, verdict.allowed, verdict.now);
    for (const d of verdict.decisions) {
      if (d.policy.shadow === true && !d.allowed) logger.info({ requestId: exchange.requestId, limit: d.policy.name }, "shadow limit would have refused this request");
    }
    const binding = bindingDecision(verdict);
    const headers: Record<string, string> = {};
    if (policyHeader !== "") headers["ratelimit-policy"] = policyHeader;
    if (binding !== undefined && isAnnounced(binding.policy)) {
      headers["ratelimit"] = rateLimitHeader(binding, verdict.now);
      if (legacyHeaders) Object.assign(headers, legacyRateLimitHeaders(binding, verdict.now));
    }
    if (verdict.allowed) {
      exchange.rateLimitHeaders = headers;
      holdLeases(exchange, checks, store, logger);
      return undefined;
    }
    const seconds = retryAfterSeconds(binding?.retryAfterMs ?? 0);
    headers["retry-after"] = String(seconds);
    const name = binding?.policy.name ?? "";
    if (binding?.reason === "store-unavailable") {
      return { kind: problems.limiterUnavailable, detail: `Limit "${name}" could not be checked; retry in ${seconds}s.`, headers };
    }
    const detail = binding?.reason === "cost-exceeds-limit"
      ? `The request costs more than limit "${name}" allows at once.`
      : binding?.policy.algorithm === "concurrency"
        ? `Limit "${name}" allows ${binding.policy.limit} requests in flight at once; retry in ${seconds}s.`
        : `Limit "${name}" allows ${binding?.policy.limit} requests per ${(binding?.policy.windowMs ?? 0) / 1000}s; retry in ${seconds}s.`;
    return { kind: problems.rateLimited, detail, headers };
  }

  // A route's limits joined with a plan's, made once per (plan, route) rather than per request. A
  // reloaded plan is a new object, so the joins of its previous version are dropped with it.
  const joined = new WeakMap<CompiledPlan, Map<CompiledRoute, RouteLimits>>();
  const limitsOf = (route: CompiledRoute, plan: CompiledPlan | undefined): RouteLimits => {
    if (plan === undefined) return route;
    let byRoute = joined.get(plan);
    if (byRoute === undefined) joined.set(plan, (byRoute = new Map<CompiledRoute, RouteLimits>()));
    let both = byRoute.get(route);
    if (both === undefined) {
      both = {
        limits: [...route.limits, ...plan.limits],
        policyHeader: route.policyHeader === "" ? plan.policyHeader : `${route.policyHeader}, ${plan.policyHeader}`,
      };
      byRoute.set(route, both);
    }
    return both;
  };

  return function limit(exchange) {
    const route = exchange.route!;
    const { cost } = route;
    const { limits, policyHeader } = limitsOf(route, plans?.forPlan(exchange.consumer?.plan));
    if (limits.length === 0) {
      if (exchange.consumer !== undefined) usage?.record(exchange.consumer, true);
      return undefined;
    }
    const checks = new Array<LimitCheck>(limits.length);
    for (let i = 0; i < limits.length; i++) {
      const { policy, key } = limits[i]!;
      checks[i] = policy.algorithm === "concurrency" ? { key: key(exchange), policy, cost, lease: randomUUID() } : { key: key(exchange), policy, cost };
    }
    const verdict = store.consume(checks);
    return verdict instanceof Promise ? verdict.then((v) => enforce(exchange, checks, v, policyHeader)) : enforce(exchange, checks, verdict, policyHeader);
  };
}

/** Gives the request's concurrency leases back once, when its response ends or its client leaves. */
function holdLeases(exchange: Exchange, checks: readonly LimitCheck[], store: RateLimitStore, logger: Logger): void {
  let leases: LeaseRelease[] | undefined;
  for (const check of checks) {
    if (check.policy.algorithm === "concurrency" && check.lease !== undefined && check.cost > 0) {
      (leases ??= []).push({ key: check.key, policy: check.policy, lease: check.lease, units: check.cost });
    }
  }
  if (leases === undefined) return;
  exchange.res.once("close", () => {
    Promise.resolve(store.release(leases)).catch((error: unknown) => logger.warn({ err: error }, "could not release a concurrency lease; it lapses with its window"));
  });
}
