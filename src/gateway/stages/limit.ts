/**
 * Stage 4, limit: every limit of the route is checked at once through the store; the request
 * goes on only if all admit it. Admitted requests carry `RateLimit`/`RateLimit-Policy` to the
 * client; refused ones get 429 with `Retry-After` as well.
 */
import { bindingDecision, rateLimitHeader, retryAfterSeconds } from "../../limiter/headers.js";
import type { Verdict } from "../../limiter/decision.js";
import type { LimitCheck } from "../../limiter/policy.js";
import { problems } from "../../problems/catalogue.js";
import type { RateLimitStore } from "../../stores/store.js";
import type { Exchange, Rejection, Stage } from "../exchange.js";

export function limit(store: RateLimitStore): Stage {
  return function limit(exchange) {
    const limits = exchange.route!.limits;
    if (limits.length === 0) return undefined;
    const checks = new Array<LimitCheck>(limits.length);
    for (let i = 0; i < limits.length; i++) {
      const { policy, key } = limits[i]!;
      checks[i] = { key: key(exchange), policy, cost: 1 };
    }
    const verdict = store.consume(checks);
    return verdict instanceof Promise ? verdict.then((v) => enforce(exchange, v)) : enforce(exchange, verdict);
  };
}

function enforce(exchange: Exchange, verdict: Verdict): Rejection | undefined {
  const binding = bindingDecision(verdict)!;
  const headers: Record<string, string> = {
    "ratelimit-policy": exchange.route!.policyHeader,
    "ratelimit": rateLimitHeader(binding, verdict.now),
  };
  if (verdict.allowed) {
    exchange.rateLimitHeaders = headers;
    return undefined;
  }
  const seconds = retryAfterSeconds(binding.retryAfterMs ?? 0);
  headers["retry-after"] = String(seconds);
  const { name, limit: quota, windowMs } = binding.policy;
  const detail = binding.reason === "cost-exceeds-limit"
    ? `The request costs more than limit "${name}" allows in one window.`
    : `Limit "${name}" allows ${quota} requests per ${windowMs / 1000}s; retry in ${seconds}s.`;
  return { kind: problems.rateLimited, detail, headers };
}
