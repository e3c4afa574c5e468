/**
 * Where a gateway request ends, whatever ended it (the upstream's response, a refusal, a failure,
 * an unreachable upstream, the client leaving): the gateway calls `exchangeEnded` when the
 * response emits `close` (after its last byte, or when the client left), and it counts the
 * request in its (service, route) series and writes its access log line.
 *
 * Hot path: everything keyed by route is made once, on a route's first request — its series and
 * a pino child logger that has its `service` and `route` bindings already serialized — so a
 * request pays one Map lookup by route id, a few array increments and, only when the access log
 * is on and `info` enabled, one log line. The clock is read at arrival and here (plus twice
 * around the upstream, in the proxy stage).
 *
 * @example
 * const ended = gatewayObserver({ metrics: metrics.gateway, logger, accessLog: config.log.access, table });
 * res.on("close", () => ended(exchange));
 */
import type { Exchange } from "./exchange.js";
import type { CompiledRoute, CompiledService, RouteTable } from "./routeTable.js";
import type { Verdict } from "../limiter/decision.js";
import { bindingDecision } from "../limiter/headers.js";
import { UNMATCHED, type GatewayMetrics, type RouteSeries } from "../observability/gatewayMetrics.js";
import type { Logger } from "../observability/logger.js";
import { decisionOutcome, type LimiterOutcome } from "../observability/metrics.js";

export interface GatewayObserverOptions {
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** Write one `info` line per request (config: log.access). */
  readonly accessLog: boolean;
  /** The routes whose series show at zero from the start. */
  readonly table?: RouteTable | undefined;
}

/** One route's series and access logger, made on its first request. */
interface RouteObserver {
  readonly series: RouteSeries;
  readonly log: Logger;
}

/** The message of every access log line, to find them among the others. */
const ACCESS_LOG_MESSAGE = "request";

export function gatewayObserver({ metrics, logger, accessLog, table }: GatewayObserverOptions): (exchange: Exchange) => void {
  const byKey = new Map<string, RouteObserver>();
  const observerOf = (service: CompiledService | undefined, route: CompiledRoute | undefined): RouteObserver => {
    // A route id ("users:0") names its service too; a service name alone has no ":".
    const key = route?.id ?? service?.name ?? "";
    let found = byKey.get(key);
    if (found === undefined) {
      const labels = { service: service?.name ?? UNMATCHED, route: route?.id ?? UNMATCHED };
      byKey.set(key, (found = { series: metrics.forRoute(labels.service, labels.route), log: logger.child(labels) }));
    }
    return found;
  };
  for (const service of table?.values() ?? []) for (const route of service.routes) observerOf(service, route);

  return function exchangeEnded(exchange) {
    const endedAt = performance.now();
    const { res } = exchange;
    const { series, log } = observerOf(exchange.service, exchange.route);
    const status = res.headersSent ? res.statusCode : 0;
    const seconds = (endedAt - exchange.startedAt) / 1000;
    const upstreamSeconds = exchange.upstreamRespondedAt === 0 ? NaN : (exchange.upstreamRespondedAt - exchange.upstreamStartedAt) / 1000;
    series.record(status, seconds, upstreamSeconds, exchange.problem);
    if (accessLog && log.isLevelEnabled("info")) log.info(accessLogFields(exchange, status, seconds, upstreamSeconds), ACCESS_LOG_MESSAGE);
  };
}

/** The access log line's fields: never the key, never the query string (either may hold a secret). */
function accessLogFields(exchange: Exchange, status: number, seconds: number, upstreamSeconds: number): Record<string, unknown> {
  const { req, res, consumer, verdict, problem } = exchange;
  const url = req.url ?? "";
  const queryAt = url.indexOf("?");
  const limiter = verdict === undefined ? undefined : requestOutcome(verdict);
  return {
    requestId: exchange.requestId,
    clientIp: exchange.clientIp,
    consumer: consumer?.id,
    keyId: consumer?.keyId,
    method: req.method,
    path: queryAt === -1 ? url : url.slice(0, queryAt),
    status: status === 0 ? undefined : status,
    durationMs: milliseconds(seconds),
    upstreamMs: upstreamSeconds === upstreamSeconds ? milliseconds(upstreamSeconds) : undefined,
    limiter: limiter?.outcome,
    limit: limiter?.limit,
    problem: problem?.code,
    // The response did not end whole: the client left, or the upstream failed mid-body.
    aborted: res.writableFinished ? undefined : true,
  };
}

const milliseconds = (seconds: number): number => Math.round(seconds * 1e6) / 1e3;

/**
 * What the limits did with one request, in the outcomes of `sluice_limiter_decisions_total`: the
 * binding limit's outcome when refused (the one its 429 or 503 names); `shadow_limited` when only a shadow limit would have
 * refused; the failure mode that admitted it when the store failed; else `allowed`. `limit`
 * names the limit that refused (or would have).
 */
export function requestOutcome(verdict: Verdict): { readonly outcome: LimiterOutcome; readonly limit?: string } {
  const failed = verdict.via === "store-failure";
  // Refused: the limit the problem's detail and Retry-After speak of.
  const binding = verdict.allowed ? undefined : bindingDecision(verdict);
  if (binding !== undefined) return { outcome: decisionOutcome(binding, failed), limit: binding.policy.name };
  const shadow = verdict.decisions.find((d) => !d.allowed && d.policy.shadow === true);
  if (shadow !== undefined) return { outcome: "shadow_limited", limit: shadow.policy.name };
  if (failed) return { outcome: verdict.decisions.some((d) => d.policy.onStoreFailure === "local") ? "store_failure_local" : "store_failure_open" };
  return { outcome: "allowed" };
}

