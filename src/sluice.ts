/**
 * Starts Sluice: the demo backends when the config refers to them, the limiter store, the
 * gateway pipeline on /api/*, and the control plane beside it, all on one port.
 *
 * One node:http server receives every request and decides once, by prefix, where it goes: /api/*
 * straight into the gateway pipeline, /v1/ratelimit* into the rate-limit service's handler
 * (src/service/), everything else into Fastify. That keeps the framework off the hot paths
 * (docs/architecture.md and bench/README.md explain the measurements behind it). A Host that
 * server.publicHosts does not accept goes nowhere: 421 (edge/publicHosts.ts).
 *
 * The gateway serves one compiled generation of the config at a time (lifecycle/liveGateway.ts):
 * `reload` compiles a new one and swaps it in for new requests; `close` drains as Envoy does
 * (edge/connectionDrain.ts): /readyz turns 503 and every response says `Connection: close`
 * (gRPC: GOAWAY), the listeners close after `server.drainDelay`, kept-alive connections retire
 * within `server.keepAliveTimeout`, requests in flight get up to `server.shutdownTimeout` to
 * finish, then pools, store and demo services close.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import Fastify, { LogController, type FastifyBaseLogger } from "fastify";
import type { Accounts } from "./accounts/accounts.js";
import { verifierChain } from "./accounts/consumer.js";
import { sessionConsumers } from "./accounts/sessionConsumers.js";
import { hasPlaintextKeys, staticApiKeys } from "./accounts/staticApiKeys.js";
import { ConfigError } from "./config/loader.js";
import type { SluiceConfig } from "./config/schema.js";
import { ACCOUNT_OPENAPI } from "./control/accountRoutes.js";
import { ADMIN_OPENAPI } from "./control/adminApi.js";
import { ApiDocs } from "./control/apiDocs.js";
import { AUTH_OPENAPI } from "./control/authRoutes.js";
import { registerControlPlane } from "./control/controlPlane.js";
import { startStatusListener, type StatusListener } from "./control/statusRoutes.js";
import { startDemoServices, type DemoServiceName, type RunningDemo } from "./demo/demoServices.js";
import { trustFromConfig } from "./edge/clientAddress.js";
import { answerClientError } from "./edge/clientErrors.js";
import { createEdgeServer } from "./edge/edgeServer.js";
import { invalidKeyThrottle } from "./gateway/invalidKeyThrottle.js";
import { responseForUpgrade, UpgradedSockets } from "./gateway/upstream/webSocketTunnel.js";
import { createGatewayHandler } from "./gateway/pipeline.js";
import { isLoopback, publicHostCheck, refusedHost } from "./edge/publicHosts.js";
import { planLimits } from "./accounts/planLimits.js";
import { closeRouteTable, compileRouteTable } from "./gateway/routeTable.js";
import { API_PREFIX } from "./gateway/stages/route.js";
import { connectionDrain } from "./edge/connectionDrain.js";
import { LiveGateway } from "./lifecycle/liveGateway.js";
import { LiveRouteTable } from "./lifecycle/liveRouteTable.js";
import { LoadShedder } from "./edge/loadShedder.js";
import { Readiness } from "./lifecycle/readiness.js";
import { reloadableConfig } from "./lifecycle/restartOnlyChanges.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { gatewayObserver } from "./gateway/gatewayObserver.js";
import { createMetrics, type SluiceMetrics } from "./observability/metrics.js";
import { upstreamHealth } from "./gateway/upstream/upstreamHealth.js";
import { openRatelimitService } from "./service/openRatelimitService.js";
import { RATELIMIT_PREFIX } from "./service/ratelimitApi.js";
import { RATELIMIT_OPENAPI } from "./control/ratelimitOpenApi.js";
import { startRateLimitGrpcServer, type RunningRateLimitGrpc } from "./service/grpc/rateLimitGrpcServer.js";
import { createLimiterStore } from "./stores/createStore.js";
import type { Clock } from "./limits/clock.js";
import type { RateLimitStore } from "./stores/store.js";
import { ADMIN_LIVE_OPENAPI } from "./control/adminLiveRoutes.js";
import { usageRecorder } from "./usage/usageRecorder.js";
import { usageRepository } from "./usage/usageRepository.js";
import { USAGE_OPENAPI } from "./control/usageRoutes.js";

export interface SluiceOptions {
  readonly config: SluiceConfig;
  /** Start the demo backends that `demo://` upstreams refer to (default true). */
  readonly demo?: boolean;
  readonly logger?: Logger;
  /** Where the access log's lines go (default: `logger`); the CLI's batches its writes (observability/logger.ts). */
  readonly accessLogger?: Logger | undefined;
  /** Clock of the default memory store; tests move it instead of sleeping. */
  readonly clock?: Clock;
  readonly store?: RateLimitStore;
  /** Keep limit state in this Redis (the CLI passes REDIS_URL); see `limiter.store`. */
  readonly redisUrl?: string | undefined;
  /**
   * Users, keys and plans from the database: its keys pass the gateway beside the config's, and
   * its plans' limits apply to their consumers. The caller opens and closes them.
   */
  readonly accounts?: Accounts | undefined;
  /** SLUICE_ADMIN_TOKEN: a Bearer token the admin API accepts besides an admin's session. */
  readonly adminToken?: string | undefined;
}

export interface RunningSluice {
  /** Base URL the gateway listens on, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  readonly demo: RunningDemo | undefined;
  /** The instance's own Prometheus registry and limiter counts, served at /metrics. */
  readonly metrics: SluiceMetrics;
  /** Port of the Envoy rate-limit service (gRPC), when `server.grpcPort` turns it on. */
  readonly grpcPort: number | undefined;
  /** Base URL of the status listener (/metrics, /readyz with details), when `server.statusPort` turns it on. */
  readonly statusUrl: string | undefined;
  /**
   * Serves `config` to new requests from now on; requests in flight finish on the previous one.
   * Settings that need a restart keep their running values and are listed in `pending`. Throws,
   * changing nothing, when the new config cannot be started (a demo service fails to start).
   */
  reload(config: SluiceConfig): Promise<{ readonly pending: readonly string[] }>;
  /** Drains and stops: readiness off, listener closed, requests in flight finished, then everything closed. */
  close(): Promise<void>;
}

const DEMO_SCHEME = "demo://";

export async function startSluice(options: SluiceOptions): Promise<RunningSluice> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.log.level);
  const { accounts } = options;
  const plans = accounts && await planLimits(accounts.plans, accounts.db, { ipv6Prefix: config.server.ipv6Prefix, logger });
  const demoEnabled = options.demo ?? true;
  // Demo services started for this config and for any reloaded one; a reload keeps them running.
  const demos: RunningDemo[] = [];
  const startDemos = async (next: SluiceConfig) => {
    const started = await startNeededDemos(next, demoEnabled, demos);
    if (started !== undefined) demos.push(started);
  };
  await startDemos(config);
  const demo = demos[0];
  const closeDemos = () => Promise.all(demos.map((d) => d.close()));
  // Read at each scrape: the targets of whichever configuration serves now (`table`, below).
  const metrics = createMetrics({ limits: Object.keys(config.limits), apiKeyCache: accounts?.keyVerifier.cacheLookups, upstreamHealth: () => upstreamHealth(table), pendingDecisions: () => store.pending ?? 0 });
  const store = options.store ?? createLimiterStore({ limiter: config.limiter, redisUrl: options.redisUrl, logger, clock: options.clock, observer: metrics.storeObserver });
  const trust = trustFromConfig(config.server.trustedProxies);
  // New gateway and rate-limit requests get 503, uncounted, while the process cannot keep up (server.overload; restart-only).
  const shedder = new LoadShedder({
    maxEventLoopDelayMs: config.server.overload.maxEventLoopDelay,
    maxPendingDecisions: config.server.overload.maxPendingDecisions,
    pending: () => store.pending ?? 0,
    logger,
    onShed: (plane) => metrics.shed(plane),
  });
  // Each caller's requests per minute, counted in memory and written in batches (src/usage/).
  const usage = accounts && usageRecorder(usageRepository(accounts.db), { now: accounts.now, onError: (error) => logger.warn({ err: error }, "could not write usage counts; they are kept for the next flush") });
  const closeUsage = () => usage?.close().catch((error: unknown) => logger.error({ err: error }, "could not write the last usage counts"));
  const sessions = accounts && sessionConsumers(accounts, { now: accounts.now });
  // OpenTelemetry spans of gateway requests, when configured; restart-only, so every generation
  // shares it. Imported only then: the SDK and its exporter take 0.4 s to load.
  const tracing = config.tracing && (await import("./gateway/tracing.js")).gatewayTracing(config.tracing, logger);
  // POST /v1/ratelimit: decisions for any application, on the gateway's own store (src/service/).
  const ratelimit = await openRatelimitService({ config, store, accounts, adminToken: options.adminToken, logger, shedder });
  // What outlives the gateway generations, closed once nothing serves requests: the last usage
  // counts are written, the last spans exported.
  const closeShared = () => {
    shedder.stop();
    return Promise.allSettled([store.close(), closeDemos(), plans?.close(), closeUsage(), ratelimit.close(), tracing?.close()]);
  };
  /** One generation of the gateway: what a config compiles to. The store, plans and sessions outlive it. */
  const compile = (next: SluiceConfig) => {
    const table = compileRouteTable(next, new Map(Object.entries(next.services).map(([name, s]) => [name, s.upstreams.map((u) => resolveUpstream(u, demos))])), { now: options.clock });
    const configKeys = staticApiKeys(next.consumers);
    const handle = createGatewayHandler({
      table,
      verifier: accounts ? verifierChain(configKeys, accounts.keyVerifier) : configKeys,
      store,
      logger,
      legacyHeaders: next.limiter.legacyHeaders,
      trust,
      limiterMetrics: metrics.limiter,
      plans,
      sessions,
      invalidKeys: next.server.invalidKeys === false ? undefined : invalidKeyThrottle(store, next.server.invalidKeys, { ipv6Prefix: next.server.ipv6Prefix, now: options.clock }),
      usage,
      maxBodySize: next.server.maxBodySize,
      exchangeEnded: gatewayObserver({ metrics: metrics.gateway, logger: options.accessLogger ?? logger, accessLog: next.log.access, table }),
      tracing,
      adminToken: options.adminToken,
      shedder,
    });
    return { config: next, table, handle, close: () => closeRouteTable(table) };
  };
  let current = compile(config);
  const live = new LiveGateway(current, logger);
  const table = new LiveRouteTable(() => current.table);
  const readiness = new Readiness({
    store,
    database: accounts?.db,
    services: () => table.values(),
    failsClosed: () => Object.entries(current.config.limits).filter(([, l]) => l.onStoreFailure === "closed" && !l.shadow).map(([name]) => name),
  });
  const docs = new ApiDocs(table, [...(accounts ? [AUTH_OPENAPI, ACCOUNT_OPENAPI, USAGE_OPENAPI, ADMIN_OPENAPI, ADMIN_LIVE_OPENAPI] : []), RATELIMIT_OPENAPI]);

  // Host names answered (server.publicHosts): on a loopback address, by default, only this machine's (DNS rebinding).
  const acceptsHost = publicHostCheck(config.server);
  // Sockets taken over by WebSocket upgrades, cut at the shutdown deadline like other connections.
  const upgraded = new UpgradedSockets();
  // Typed as Fastify's logger, so Fastify's generics are not inferred from pino's richer type.
  const controlLogger: FastifyBaseLogger = logger.child({ plane: "control" });
  const app = Fastify({
    loggerInstance: controlLogger,
    // The same proxies the gateway believes: behind them, X-Forwarded-Proto says whether the
    // browser used HTTPS (the session cookie is then Secure), and request.ip is the client.
    trustProxy: trust ?? false,
    // The control plane logs its errors, not a line per docs asset fetched.
    logController: new LogController({ disableRequestLogging: true }),
    // Bytes node's parser refuses (smuggling shapes, oversized headers, slow clients) get a problem document, then the connection closes.
    clientErrorHandler: answerClientError,
    // A gateway or rate-limit API request with `Expect: 100-continue` is invited to send its body only once admitted (edge/edgeServer.ts).
    serverFactory: (controlPlane) =>
      createEdgeServer(config.server, (req: IncomingMessage, res: ServerResponse) => {
        if (refusedHost(acceptsHost, req, res)) return;
        if (req.url?.startsWith(API_PREFIX)) live.handle(req, res);
        else if (req.url?.startsWith(RATELIMIT_PREFIX)) ratelimit.handle(req, res);
        else controlPlane(req, res);
      }, (req) => req.url?.startsWith(API_PREFIX) === true || req.url?.startsWith(RATELIMIT_PREFIX) === true).on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        // WebSocket upgrades run the gateway's pipeline on a response written to the socket (gateway/upstream/webSocketTunnel.ts).
        if (!req.url?.startsWith(API_PREFIX)) {
          socket.destroy();
          return;
        }
        const res = responseForUpgrade(req, upgraded.track(socket), head);
        if (!refusedHost(acceptsHost, req, res)) live.handle(req, res);
      }),
  });
  const drain = connectionDrain(app.server);
  // Envoy's ShouldRateLimit over gRPC, when configured: the same store and named policies as /v1/ratelimit.
  let grpc: RunningRateLimitGrpc | undefined;
  // The operators' listener, when configured: metrics and readiness details off the public port.
  const { statusPort } = config.server;
  let status: StatusListener | undefined;
  try {
    await registerControlPlane(app, { table, docs, metrics: statusPort === undefined ? metrics : undefined, accounts, limiterStore: store, adminToken: options.adminToken, trust, ipv6Prefix: config.server.ipv6Prefix, usage, plans, readiness });
    await Promise.all([docs.refresh(), store.ready?.()]);
    await app.listen({ host: config.server.host, port: config.server.port });
    if (statusPort !== undefined) status = await startStatusListener({ ...config.server, statusPort }, { readiness, metrics }, controlLogger);
    if (config.server.grpcPort !== undefined) {
      grpc = await startRateLimitGrpcServer({
        host: config.server.host, port: config.server.grpcPort, policies: () => ratelimit.service.policies, authenticate: ratelimit.authenticate, tokenSettings: ratelimit.tokenSettings, store, logger, shedder,
      });
    }
  } catch (error) {
    await Promise.allSettled([app.close(), status?.close(), grpc?.close(), live.close()]);
    await closeShared();
    throw error;
  }

  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  if (hasPlaintextKeys(config.consumers) && !isLoopback(config.server.host)) {
    logger.warn({ host: config.server.host }, 'the config holds plaintext API keys and Sluice listens beyond loopback: store keys as "sha256:<hex>" (docs/security.md)');
  }
  if (status === undefined && !isLoopback(config.server.host)) {
    logger.warn({ host: config.server.host }, "/metrics, which names every service and upstream address, is served on the public port beyond loopback: set server.statusPort to serve it on a listener of its own (docs/security.md)");
  }
  logger.info({ url, status: status?.url, services: [...table.keys()], demo: demo ? Object.fromEntries(demo.urls) : undefined }, "sluice is listening");

  // One reload at a time, in the order asked: a file saved twice applies its last version last.
  let reloads: Promise<unknown> = Promise.resolve();
  const reload = async (edited: SluiceConfig) => {
    const { config: next, pending } = reloadableConfig(current.config, edited);
    await startDemos(next);
    current = compile(next);
    live.swap(current);
    ratelimit.useConfig(next);
    docs.refresh().catch((error: unknown) => logger.warn({ err: error }, "could not rebuild the API docs after a reload"));
    logger.info({ services: [...current.table.keys()], limits: Object.keys(next.limits) }, "configuration reloaded: new requests use it, requests in flight finish on the previous one");
    if (pending.length > 0) logger.warn({ pending }, `${pending.join(", ")} changed: ${pending.length === 1 ? "it takes" : "they take"} effect after a restart; the running ${pending.length === 1 ? "value stays" : "values stay"}`);
    return { pending };
  };

  return {
    url,
    demo,
    metrics,
    grpcPort: grpc?.port,
    statusUrl: status?.url,
    reload: (edited) => {
      const next = reloads.then(() => reload(edited));
      reloads = next.catch(() => undefined);
      return next;
    },
    close: async () => {
      const { drainDelay, shutdownTimeout, keepAliveTimeout } = current.config.server;
      logger.info({ inFlight: live.inFlight, drainDelay, shutdownTimeout }, "shutting down: /readyz answers 503 and responses close their connections, then the listener closes and requests in flight finish");
      readiness.shutDown();
      drain.start();
      grpc?.drain();
      // Readiness answers 503 while the listener still accepts: a load balancer stops sending first.
      if (drainDelay !== undefined) await delay(drainDelay);
      const deadline = setTimeout(() => {
        logger.warn({ inFlight: live.inFlight, shutdownTimeout }, "requests still in flight at the shutdown deadline: closing their connections");
        app.server.closeAllConnections();
        upgraded.destroyAll(); // WebSocket tunnels: node:http no longer tracks their sockets
      }, shutdownTimeout);
      // gRPC calls in flight finish (or are cut off) alongside HTTP's, before the store closes; the
      // status listener says "shutting down" until the public port has closed.
      const grpcClosed = grpc?.close();
      // No new connections; a kept-alive one closes after its next response, or idle within keepAliveTimeout.
      await drain.close(keepAliveTimeout);
      await app.close();
      await Promise.all([grpcClosed, status?.close()]);
      // Still under the deadline: WebSocket tunnels (which app.close does not wait for) count as in flight.
      await live.close();
      clearTimeout(deadline);
      await closeShared();
    },
  };
}

/** Starts only the demo services that the config's `demo://` upstreams name (the schema checked the names). */
async function startNeededDemos(config: SluiceConfig, enabled: boolean, running: readonly RunningDemo[]): Promise<RunningDemo | undefined> {
  const wanted = Object.entries(config.services).flatMap(([name, s]) => s.upstreams.filter((u) => u.startsWith(DEMO_SCHEME) && demoUrl(u, running) === undefined).map((u) => [name, u] as const));
  if (wanted.length === 0) return undefined;
  if (!enabled) {
    throw new ConfigError("configuration", wanted.map(([name, u]) => ({
      line: 0,
      column: 0,
      path: `services.${name}.upstream`,
      message: `${u} needs the demo services, which --no-demo turned off; point it at a real URL`,
    })));
  }
  return startDemoServices([...new Set(wanted.map(([, u]) => u.slice(DEMO_SCHEME.length) as DemoServiceName))]);
}

function resolveUpstream(upstream: string, demos: readonly RunningDemo[]): string {
  return upstream.startsWith(DEMO_SCHEME) ? demoUrl(upstream, demos)! : upstream;
}

function demoUrl(upstream: string, demos: readonly RunningDemo[]): string | undefined {
  const name = upstream.slice(DEMO_SCHEME.length) as DemoServiceName;
  for (const demo of demos) {
    const url = demo.urls.get(name);
    if (url !== undefined) return url;
  }
  return undefined;
}
