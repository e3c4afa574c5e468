/**
 * The gateway's request pipeline, in the order it runs:
 *
 *   identify → shed → authenticate → route → limit → proxy
 *
 * `runPipeline` walks the stages; a stage that answers synchronously costs no promise, a stage
 * that refuses stops the walk and its Rejection becomes a problem document, and a stage that
 * throws becomes a logged 500 that never reaches the client's eyes in detail.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ApiKeyVerifier } from "../accounts/consumer.js";
import type { SessionConsumers } from "../accounts/sessionConsumers.js";
import type { LoadShedder } from "../edge/loadShedder.js";
import type { LimiterMetrics } from "../observability/metrics.js";
import type { GatewayTracing } from "./tracing.js";
import { problems } from "../problems/catalogue.js";
import type { RateLimitStore } from "../stores/store.js";
import type { UsageRecorder } from "../usage/usageRecorder.js";
import type { TrustFunction } from "../edge/clientAddress.js";
import { Exchange, type Rejection, type Stage } from "./exchange.js";
import type { InvalidKeyThrottle } from "./invalidKeyThrottle.js";
import { declaresBody } from "../edge/requestFraming.js";
import type { PlanLimits } from "../accounts/planLimits.js";
import type { RouteTable } from "./routeTable.js";
import { authenticate } from "./stages/authenticate.js";
import { identify } from "./stages/identify.js";
import { limit } from "./stages/limit.js";
import { proxy } from "./stages/proxy.js";
import { route } from "./stages/route.js";
import { shed } from "./stages/shed.js";

export interface GatewayDeps {
  readonly table: RouteTable;
  readonly verifier: ApiKeyVerifier;
  readonly store: RateLimitStore;
  readonly logger: Logger;
  /** Also send X-RateLimit-* headers (config: limiter.legacyHeaders). */
  readonly legacyHeaders?: boolean;
  /** Proxies believed about the client address (config: server.trustedProxies); none when undefined. */
  readonly trust?: TrustFunction | undefined;
  /** Where the limit stage counts its decisions; none when undefined. */
  readonly limiterMetrics?: LimiterMetrics | undefined;
  /** Limits of each plan, from the accounts database; none when undefined. */
  readonly plans?: PlanLimits | undefined;
  /** Signed-in people's sessions, accepted for GET/HEAD without a key; none when undefined. */
  readonly sessions?: SessionConsumers | undefined;
  /** Counts refused keys per client address and turns away an address that sent too many (config: server.invalidKeys); off when undefined. */
  readonly invalidKeys?: InvalidKeyThrottle | undefined;
  /** Counts each caller's allowed and limited requests (src/usage/); none when undefined. */
  readonly usage?: Pick<UsageRecorder, "record"> | undefined;
  /** Largest request body of a service that sets none (config: server.maxBodySize); none when undefined. */
  readonly maxBodySize?: number | undefined;
  /** Told once when each request ends, however it ends: metrics and the access log (gateway/gatewayObserver.ts). */
  readonly exchangeEnded?: ((exchange: Exchange) => void) | undefined;
  /** OpenTelemetry spans of each request, its stages and its upstream call (config: tracing); none when undefined. */
  readonly tracing?: GatewayTracing | undefined;
  /** SLUICE_ADMIN_TOKEN: an Authorization header carrying it is not forwarded (upstream/ownCredentials.ts). */
  readonly adminToken?: string | undefined;
  /** Refuses new requests while the process cannot keep up (config: server.overload); never when undefined. */
  readonly shedder?: Pick<LoadShedder, "shed"> | undefined;
}

export function gatewayStages(deps: GatewayDeps): readonly Stage[] {
  return [
    identify(deps.trust),
    ...(deps.shedder === undefined ? [] : [shed(deps.shedder)]),
    authenticate(deps.verifier, deps.sessions, deps.invalidKeys),
    route(deps.table, deps.maxBodySize),
    limit({ store: deps.store, logger: deps.logger, legacyHeaders: deps.legacyHeaders ?? false, metrics: deps.limiterMetrics, plans: deps.plans, usage: deps.usage }),
    proxy(deps.logger, deps.trust, deps.adminToken),
  ];
}

/** A response's exchange, for the one `close` listener that every response shares. */
const EXCHANGE = Symbol("sluice.exchange");
type CarriesExchange = ServerResponse & { [EXCHANGE]?: Exchange };

/**
 * The node:http handler for /api/*: one Exchange per request, run through the stages. `ended`,
 * when given, is called once the request has ended, after `deps.exchangeEnded`.
 */
export function createGatewayHandler(deps: GatewayDeps): (req: IncomingMessage, res: ServerResponse, ended?: () => void) => void {
  const { tracing } = deps;
  // Tracing wraps the stages and the end observer here, once: a gateway without it runs neither.
  const stages = tracing === undefined ? gatewayStages(deps) : tracing.traceStages(gatewayStages(deps));
  const exchangeEnded = tracing === undefined ? deps.exchangeEnded : tracing.endingTraces(deps.exchangeEnded);
  // 'close' comes after the last byte or when the client leaves, whichever ends the request. The
  // emitter calls a listener on the response: one shared listener finds the exchange there, so a
  // request costs no closure.
  function closed(this: CarriesExchange): void {
    const exchange = this[EXCHANGE]!;
    exchangeEnded?.(exchange);
    exchange.ended?.();
  }
  return function gateway(req, res, ended) {
    const exchange = new Exchange(req, res);
    exchange.ended = ended;
    if (tracing !== undefined) exchange.trace = tracing.start(exchange);
    (res as CarriesExchange)[EXCHANGE] = exchange;
    if (exchangeEnded !== undefined || ended !== undefined) res.on("close", closed);
    runPipeline(stages, exchange, 0, deps.logger);
  };
}

export function runPipeline(stages: readonly Stage[], exchange: Exchange, from: number, logger: Logger): void {
  for (let i = from; i < stages.length; i++) {
    let result: ReturnType<Stage>;
    try {
      result = stages[i]!(exchange);
    } catch (error) {
      fail(exchange, error, logger);
      return;
    }
    if (result === undefined) continue;
    if (result instanceof Promise) {
      result.then(
        (rejection) => (rejection === undefined ? runPipeline(stages, exchange, i + 1, logger) : refuse(exchange, rejection)),
        (error: unknown) => fail(exchange, error, logger),
      );
      return;
    }
    refuse(exchange, result);
    return;
  }
}

function refuse(exchange: Exchange, rejection: Rejection): void {
  exchange.answerProblem(rejection.kind, rejection.detail, hasUnreadBody(exchange) ? { ...rejection.headers, connection: "close" } : rejection.headers);
}

/**
 * A refused request's body is never read. Left on a keep-alive connection, node would read and
 * discard all of it, however large, before the next request: closing the connection is cheaper.
 */
function hasUnreadBody({ req }: Exchange): boolean {
  return !req.complete && declaresBody(req);
}

function fail(exchange: Exchange, error: unknown, logger: Logger): void {
  logger.error({ err: error, requestId: exchange.requestId }, "gateway pipeline failed");
  exchange.answerProblem(problems.internal, "An unexpected error occurred.");
}
