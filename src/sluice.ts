/**
 * Starts Sluice, in named steps: the demo backends the config refers to (startDemos), what
 * outlives a config's generations, the limiter store first (openShared), the gateway
 * (openGateway), the control plane (openControlPlane), and the listeners (listen); `reload` and
 * `close` are reloader and shutDown.
 *
 * The public port is Sluice's own node:http server (edge/edgeServer.ts), which receives every
 * request and decides once, by prefix, where it goes: /api/* straight into the gateway pipeline,
 * /v1/ratelimit* into the rate-limit service's handler (src/service/), everything else into
 * Fastify's router (`routing`), which owns no listener. That keeps the framework off the hot
 * paths (docs/architecture.md and bench/README.md explain the measurements behind it). A Host
 * that server.publicHosts does not accept goes nowhere: 421 (edge/publicHosts.ts).
 *
 * The gateway serves one compiled generation of the config at a time (lifecycle/liveGateway.ts):
 * `reload` compiles a new one and swaps it in for new requests; `close` drains as Envoy does
 * (edge/connectionDrain.ts): /readyz turns 503 and every response says `Connection: close`
 * (gRPC: GOAWAY), the listeners close after `server.drainDelay`, kept-alive connections retire
 * within `server.keepAliveTimeout`, requests in flight get up to `server.shutdownTimeout` to
 * finish, then pools, store and demo services close.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Accounts } from "./accounts/accounts.js";
import { verifierChain } from "./accounts/consumer.js";
import { sessionConsumers, type SessionConsumers } from "./accounts/sessionConsumers.js";
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
import { trustFromConfig, type TrustFunction } from "./edge/clientAddress.js";
import { createEdgeServer } from "./edge/edgeServer.js";
import { invalidKeyThrottle } from "./gateway/invalidKeyThrottle.js";
import { responseForUpgrade, UpgradedSockets } from "./gateway/upstream/webSocketTunnel.js";
import { createGatewayHandler } from "./gateway/pipeline.js";
import { isLoopback, publicHostCheck, refusedHost } from "./edge/publicHosts.js";
import { planLimits, type PlanLimits } from "./accounts/planLimits.js";
import { closeRouteTable, compileRouteTable, type RouteTable } from "./gateway/routeTable.js";
import { API_PREFIX } from "./gateway/stages/route.js";
import { connectionDrain, type ConnectionDrain } from "./edge/connectionDrain.js";
import { LiveGateway } from "./lifecycle/liveGateway.js";
import { LiveRouteTable } from "./lifecycle/liveRouteTable.js";
import { LoadShedder } from "./edge/loadShedder.js";
import { Readiness } from "./lifecycle/readiness.js";
import { reloadableConfig } from "./lifecycle/restartOnlyChanges.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { gatewayObserver } from "./gateway/gatewayObserver.js";
import type { GatewayTracing } from "./gateway/tracing.js";
import { createMetrics, type SluiceMetrics } from "./observability/metrics.js";
import { upstreamHealth } from "./gateway/upstream/upstreamHealth.js";
import { openRatelimitService, type RunningRatelimitService } from "./service/openRatelimitService.js";
import { RATELIMIT_PREFIX } from "./service/ratelimitApi.js";
import { RATELIMIT_OPENAPI } from "./control/ratelimitOpenApi.js";
import type { RunningRateLimitGrpc } from "./service/grpc/rateLimitGrpcServer.js";
import { createLimiterStore } from "./stores/createStore.js";
import type { Clock } from "./limits/clock.js";
import type { RateLimitStore } from "./stores/store.js";
import { ADMIN_LIVE_OPENAPI } from "./control/adminLiveRoutes.js";
import { usageRecorder, type UsageRecorder } from "./usage/usageRecorder.js";
import { usageRepository } from "./usage/usageRepository.js";
import { USAGE_OPENAPI } from "./control/usageRoutes.js";
import { PASSWORD_RESET_OPENAPI } from "./control/passwordResetRoutes.js";

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
  const demos = await startDemos(config, options.demo ?? true);
  // The metrics read the route table of whichever generation serves at each scrape.
  const serving: { table?: RouteTable } = {};
  const shared = await openShared(options, logger, demos, () => serving.table);
  const gateway = openGateway(options, logger, shared, demos);
  serving.table = gateway.table;
  let control: ControlPlane | undefined;
  let listeners: Listeners;
  try {
    control = await openControlPlane(options, logger, shared, gateway);
    listeners = await listen(config, logger, shared, gateway, control);
  } catch (error) {
    await Promise.allSettled([control?.app.close(), gateway.live.close()]);
    await shared.close();
    throw error;
  }
  warnAboutExposure(config, logger, listeners);
  logger.info({ url: listeners.url, status: listeners.status?.url, services: [...gateway.table.keys()], demo: demos.first ? Object.fromEntries(demos.first.urls) : undefined }, "sluice is listening");
  return {
    url: listeners.url,
    demo: demos.first,
    metrics: shared.metrics,
    grpcPort: listeners.grpc?.port,
    statusUrl: listeners.status?.url,
    reload: reloader(logger, demos, shared, gateway, control),
    close: () => shutDown(logger, shared, gateway, control, listeners),
  };
}

/** The demo services `demo://` upstreams name, started for the config and for any reloaded one; a reload keeps them running. */
interface Demos {
  readonly first: RunningDemo | undefined;
  /** Starts those a config names that are not running yet. */
  startFor(config: SluiceConfig): Promise<void>;
  resolve(upstream: string): string;
  close(): Promise<unknown>;
}

async function startDemos(config: SluiceConfig, enabled: boolean): Promise<Demos> {
  const running: RunningDemo[] = [];
  const demos: Demos = {
    get first() {
      return running[0];
    },
    startFor: async (next) => {
      const started = await startNeededDemos(next, enabled, running);
      if (started !== undefined) running.push(started);
    },
    resolve: (upstream) => resolveUpstream(upstream, running),
    close: () => Promise.all(running.map((d) => d.close())),
  };
  await demos.startFor(config);
  return demos;
}

/** What outlives the gateway's generations: the limiter store, metrics, load shedder, usage counts, sessions, traces and the rate-limit service. */
interface Shared {
  readonly metrics: SluiceMetrics;
  readonly store: RateLimitStore;
  readonly trust: TrustFunction | undefined;
  readonly shedder: LoadShedder;
  readonly plans: PlanLimits | undefined;
  readonly usage: UsageRecorder | undefined;
  readonly sessions: SessionConsumers | undefined;
  readonly tracing: GatewayTracing | undefined;
  readonly ratelimit: RunningRatelimitService;
  /** Closed once nothing serves requests: the last usage counts are written, the last spans exported. */
  close(): Promise<unknown>;
}

async function openShared(options: SluiceOptions, logger: Logger, demos: Demos, table: () => RouteTable | undefined): Promise<Shared> {
  const { config, accounts } = options;
  const plans = accounts && await planLimits(accounts.plans, accounts.db, { ipv6Prefix: config.server.ipv6Prefix, logger });
  // Read at each scrape: the upstream targets serving now, and the decisions waiting for the store.
  const metrics = createMetrics({ limits: Object.keys(config.limits), policies: Object.keys(config.policies), apiKeyCache: accounts?.keyVerifier.cacheLookups, upstreamHealth: () => upstreamHealth(table() ?? new Map()), pendingDecisions: () => store.pending ?? 0 });
  const store = options.store ?? await createLimiterStore({ limiter: config.limiter, redisUrl: options.redisUrl, logger, clock: options.clock, observer: metrics.storeObserver });
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
  // OpenTelemetry spans of gateway requests, when configured; restart-only, so every generation
  // shares it. Imported only then: the SDK and its exporter take 0.4 s to load.
  const tracing = config.tracing && (await import("./gateway/tracing.js")).gatewayTracing(config.tracing, logger);
  // POST /v1/ratelimit: decisions for any application, on the gateway's own store (src/service/).
  const ratelimit = await openRatelimitService({ config, store, accounts, adminToken: options.adminToken, logger, shedder, observer: metrics.ratelimit });
  return {
    metrics,
    store,
    trust: trustFromConfig(config.server.trustedProxies),
    shedder,
    plans,
    usage,
    sessions: accounts && sessionConsumers(accounts, { now: accounts.now }),
    tracing,
    ratelimit,
    close: () => {
      shedder.stop();
      const closeUsage = usage?.close().catch((error: unknown) => logger.error({ err: error }, "could not write the last usage counts"));
      return Promise.allSettled([store.close(), demos.close(), plans?.close(), closeUsage, ratelimit.close(), tracing?.close()]);
    },
  };
}

/** The gateway: one compiled generation of the config at a time, swapped on reload (lifecycle/liveGateway.ts). */
interface Gateway {
  readonly live: LiveGateway;
  /** The route table of whichever generation serves now. */
  readonly table: RouteTable;
  readonly config: () => SluiceConfig;
  /** Compiles `next` and serves it to new requests; requests in flight finish on the previous one. */
  swap(next: SluiceConfig): void;
}

function openGateway(options: SluiceOptions, logger: Logger, shared: Shared, demos: Demos): Gateway {
  const { accounts } = options;
  /** One generation: what a config compiles to. The store, plans and sessions outlive it. */
  const compile = (next: SluiceConfig) => {
    const table = compileRouteTable(next, new Map(Object.entries(next.services).map(([name, s]) => [name, s.upstreams.map((u) => demos.resolve(u))])), { now: options.clock });
    const configKeys = staticApiKeys(next.consumers);
    const handle = createGatewayHandler({
      table,
      verifier: accounts ? verifierChain(configKeys, accounts.keyVerifier) : configKeys,
      store: shared.store,
      logger,
      legacyHeaders: next.limiter.legacyHeaders,
      trust: shared.trust,
      limiterMetrics: shared.metrics.limiter,
      plans: shared.plans,
      sessions: shared.sessions,
      invalidKeys: next.server.invalidKeys === false ? undefined : invalidKeyThrottle(shared.store, next.server.invalidKeys, { ipv6Prefix: next.server.ipv6Prefix, now: options.clock }),
      usage: shared.usage,
      maxBodySize: next.server.maxBodySize,
      exchangeEnded: gatewayObserver({ metrics: shared.metrics.gateway, logger: options.accessLogger ?? logger, accessLog: next.log.access, table }),
      tracing: shared.tracing,
      adminToken: options.adminToken,
      shedder: shared.shedder,
    });
    return { config: next, table, handle, close: () => closeRouteTable(table) };
  };
  let current = compile(options.config);
  const live = new LiveGateway(current, logger);
  const table = new LiveRouteTable(() => current.table);
  return {
    live,
    table,
    config: () => current.config,
    swap: (next) => {
      current = compile(next);
      live.swap(current);
    },
  };
}

/** The control plane: Fastify, its routes registered and ready; it gets the requests the edge hands it and owns no listener. */
interface ControlPlane {
  readonly app: FastifyInstance;
  readonly docs: ApiDocs;
  readonly readiness: Readiness;
  readonly logger: FastifyBaseLogger;
}

async function openControlPlane(options: SluiceOptions, logger: Logger, shared: Shared, gateway: Gateway): Promise<ControlPlane> {
  const { config, accounts } = options;
  const readiness = new Readiness({
    store: shared.store,
    database: accounts?.db,
    services: () => gateway.table.values(),
    failsClosed: () => Object.entries(gateway.config().limits).filter(([, l]) => l.onStoreFailure === "closed" && !l.shadow).map(([name]) => name),
  });
  const docs = new ApiDocs(gateway.table, [...(accounts ? [AUTH_OPENAPI, PASSWORD_RESET_OPENAPI, ACCOUNT_OPENAPI, USAGE_OPENAPI, ADMIN_OPENAPI, ADMIN_LIVE_OPENAPI] : []), RATELIMIT_OPENAPI]);
  // Typed as Fastify's logger, so Fastify's generics are not inferred from pino's richer type.
  const controlLogger: FastifyBaseLogger = logger.child({ plane: "control" });
  const app = Fastify({
    loggerInstance: controlLogger,
    // The same proxies the gateway believes: behind them, X-Forwarded-Proto says whether the
    // browser used HTTPS (the session cookie is then Secure), and request.ip is the client.
    trustProxy: shared.trust ?? false,
    // The control plane logs its errors, not a line per docs asset fetched.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const statusListener = config.server.statusPort !== undefined;
  try {
    await registerControlPlane(app, { table: gateway.table, docs, metrics: statusListener ? undefined : shared.metrics, accounts, limiterStore: shared.store, adminToken: options.adminToken, trust: shared.trust, ipv6Prefix: config.server.ipv6Prefix, usage: shared.usage, plans: shared.plans, readiness });
    await Promise.all([docs.refresh(), shared.store.ready?.(), app.ready()]);
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, docs, readiness, logger: controlLogger };
}

/** What listens: the public port (every plane), the optional status listener and the optional gRPC port. */
interface Listeners {
  readonly url: string;
  readonly server: Server;
  readonly drain: ConnectionDrain;
  readonly upgraded: UpgradedSockets;
  readonly status: StatusListener | undefined;
  readonly grpc: RunningRateLimitGrpc | undefined;
}

/**
 * The public port is Sluice's own node:http server (edge/edgeServer.ts): a Host it does not
 * accept gets 421, /api/* goes to the gateway, /v1/ratelimit* to the rate-limit service, and the
 * rest to Fastify's router, which never sees the gateway's requests.
 */
async function listen(config: SluiceConfig, logger: Logger, shared: Shared, gateway: Gateway, control: ControlPlane): Promise<Listeners> {
  const { live } = gateway;
  const { ratelimit } = shared;
  // Host names answered (server.publicHosts): on a loopback address, by default, only this machine's (DNS rebinding).
  const acceptsHost = publicHostCheck(config.server);
  // Sockets taken over by WebSocket upgrades, cut at the shutdown deadline like other connections.
  const upgraded = new UpgradedSockets();
  const dispatch = (req: IncomingMessage, res: ServerResponse) => {
    if (refusedHost(acceptsHost, req, res)) return;
    if (req.url?.startsWith(API_PREFIX)) live.handle(req, res);
    else if (req.url?.startsWith(RATELIMIT_PREFIX)) ratelimit.handle(req, res);
    else control.app.routing(req, res);
  };
  // A gateway or rate-limit API request with `Expect: 100-continue` is invited to send its body only once admitted.
  const holdsContinue = (req: IncomingMessage) => req.url?.startsWith(API_PREFIX) === true || req.url?.startsWith(RATELIMIT_PREFIX) === true;
  const server = createEdgeServer(config.server, dispatch, holdsContinue).on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // WebSocket upgrades run the gateway's pipeline on a response written to the socket (gateway/upstream/webSocketTunnel.ts).
    if (!req.url?.startsWith(API_PREFIX)) {
      socket.destroy();
      return;
    }
    const res = responseForUpgrade(req, upgraded.track(socket), head);
    if (!refusedHost(acceptsHost, req, res)) live.handle(req, res);
  });
  const drain = connectionDrain(server);
  let status: StatusListener | undefined;
  let grpc: RunningRateLimitGrpc | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: config.server.host, port: config.server.port }, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { statusPort } = config.server;
    // The operators' listener, when configured: metrics and readiness details off the public port.
    if (statusPort !== undefined) status = await startStatusListener({ ...config.server, statusPort }, { readiness: control.readiness, metrics: shared.metrics }, control.logger);
    // Envoy's ShouldRateLimit over gRPC, when configured: the same store and named policies as /v1/ratelimit.
    if (config.server.grpcPort !== undefined) {
      // Loaded only when configured: grpc-js, protobufjs and the reflection service hold 2.6 MB of heap.
      const { startRateLimitGrpcServer } = await import("./service/grpc/rateLimitGrpcServer.js");
      grpc = await startRateLimitGrpcServer({
        host: config.server.host, port: config.server.grpcPort, policies: () => ratelimit.service.policies, authenticate: ratelimit.authenticate, tokenSettings: ratelimit.tokenSettings, store: shared.store, logger, shedder: shared.shedder,
        // The gRPC health service says what /readyz says.
        ready: async () => (await control.readiness.check()).ready,
        observer: shared.metrics.ratelimit,
      });
    }
  } catch (error) {
    await Promise.allSettled([drain.close(0), status?.close(), grpc?.close()]);
    throw error;
  }
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  return { url: `http://${host}:${port}`, server, drain, upgraded, status, grpc };
}

function warnAboutExposure(config: SluiceConfig, logger: Logger, listeners: Listeners): void {
  if (isLoopback(config.server.host)) return;
  if (hasPlaintextKeys(config.consumers)) {
    logger.warn({ host: config.server.host }, 'the config holds plaintext API keys and Sluice listens beyond loopback: store keys as "sha256:<hex>" (docs/security.md)');
  }
  if (listeners.status === undefined) {
    logger.warn({ host: config.server.host }, "/metrics, which names every service and upstream address, is served on the public port beyond loopback: set server.statusPort to serve it on a listener of its own (docs/security.md)");
  }
}

/** `reload`: one at a time, in the order asked, so a file saved twice applies its last version last. */
function reloader(logger: Logger, demos: Demos, shared: Shared, gateway: Gateway, control: ControlPlane): RunningSluice["reload"] {
  const reload = async (edited: SluiceConfig) => {
    const { config: next, pending } = reloadableConfig(gateway.config(), edited);
    await demos.startFor(next);
    gateway.swap(next);
    shared.ratelimit.useConfig(next);
    control.docs.refresh().catch((error: unknown) => logger.warn({ err: error }, "could not rebuild the API docs after a reload"));
    logger.info({ services: [...gateway.table.keys()], limits: Object.keys(next.limits) }, "configuration reloaded: new requests use it, requests in flight finish on the previous one");
    if (pending.length > 0) logger.warn({ pending }, `${pending.join(", ")} changed: ${pending.length === 1 ? "it takes" : "they take"} effect after a restart; the running ${pending.length === 1 ? "value stays" : "values stay"}`);
    return { pending };
  };
  let reloads: Promise<unknown> = Promise.resolve();
  return (edited) => {
    const next = reloads.then(() => reload(edited));
    reloads = next.catch(() => undefined);
    return next;
  };
}

/** Drains as Envoy does (see the header), then closes what outlives the gateway. */
async function shutDown(logger: Logger, shared: Shared, gateway: Gateway, control: ControlPlane, listeners: Listeners): Promise<void> {
  const { live } = gateway;
  const { drainDelay, shutdownTimeout, keepAliveTimeout } = gateway.config().server;
  logger.info({ inFlight: live.inFlight, drainDelay, shutdownTimeout }, "shutting down: /readyz answers 503 and responses close their connections, then the listener closes and requests in flight finish");
  control.readiness.shutDown();
  listeners.drain.start();
  listeners.grpc?.drain();
  // Readiness answers 503 while the listener still accepts: a load balancer stops sending first.
  if (drainDelay !== undefined) await delay(drainDelay);
  const deadline = setTimeout(() => {
    logger.warn({ inFlight: live.inFlight, shutdownTimeout }, "requests still in flight at the shutdown deadline: closing their connections");
    listeners.server.closeAllConnections();
    listeners.upgraded.destroyAll(); // WebSocket tunnels: node:http no longer tracks their sockets
  }, shutdownTimeout);
  // gRPC calls in flight finish (or are cut off) alongside HTTP's, before the store closes; the
  // status listener says "shutting down" until the public port has closed.
  const grpcClosed = listeners.grpc?.close();
  // No new connections; a kept-alive one closes after its next response, or idle within keepAliveTimeout.
  await listeners.drain.close(keepAliveTimeout);
  await control.app.close();
  await Promise.all([grpcClosed, listeners.status?.close()]);
  // Still under the deadline: WebSocket tunnels (which the listener's close does not wait for) count as in flight.
  await live.close();
  clearTimeout(deadline);
  await shared.close();
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
