/**
 * Starts Sluice: the demo backends when the config refers to them, the limiter store, the
 * gateway pipeline on /api/*, and the control plane beside it, all on one port.
 *
 * One node:http server receives every request and decides once, by prefix, where it goes: /api/*
 * straight into the gateway pipeline, everything else into Fastify. That keeps the framework off
 * the proxy's hot path (docs/architecture.md explains the measurement behind it).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
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
import { startDemoServices, type DemoServiceName, type RunningDemo } from "./demo/demoServices.js";
import { trustFromConfig } from "./gateway/clientAddress.js";
import { createGatewayHandler } from "./gateway/pipeline.js";
import { planLimits } from "./gateway/planLimits.js";
import { closeRouteTable, compileRouteTable } from "./gateway/routeTable.js";
import { API_PREFIX } from "./gateway/stages/route.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { createMetrics, type SluiceMetrics } from "./observability/metrics.js";
import { createLimiterStore } from "./stores/createStore.js";
import type { Clock, RateLimitStore } from "./stores/store.js";

export interface SluiceOptions {
  readonly config: SluiceConfig;
  /** Start the demo backends that `demo://` upstreams refer to (default true). */
  readonly demo?: boolean;
  readonly logger?: Logger;
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
  close(): Promise<void>;
}

const DEMO_SCHEME = "demo://";

/** Server-level limits against slow or oversized requests. */
const SERVER_LIMITS = { headersTimeout: 10_000, requestTimeout: 60_000, keepAliveTimeout: 5_000, maxHeaderSize: 16_384 };

export async function startSluice(options: SluiceOptions): Promise<RunningSluice> {
  const { config } = options;
  const logger = options.logger ?? createLogger();
  const { accounts } = options;
  const plans = accounts && await planLimits(accounts.plans, accounts.db, { ipv6Prefix: config.server.ipv6Prefix, logger });
  const demo = await startNeededDemos(config, options.demo ?? true);
  const upstreams = new Map(Object.entries(config.services).map(([name, s]) => [name, resolveUpstream(s.upstream, demo)]));
  const table = compileRouteTable(config, upstreams);
  const metrics = createMetrics({ limits: Object.keys(config.limits) });
  const store = options.store ?? createLimiterStore({ limiter: config.limiter, redisUrl: options.redisUrl, logger, clock: options.clock, observer: metrics.storeObserver });
  const configKeys = staticApiKeys(config.consumers);
  const trust = trustFromConfig(config.server.trustedProxies);
  const gateway = createGatewayHandler({
    table,
    verifier: accounts ? verifierChain(configKeys, accounts.keyVerifier) : configKeys,
    store,
    logger,
    legacyHeaders: config.limiter.legacyHeaders,
    trust,
    limiterMetrics: metrics.limiter,
    plans,
    sessions: accounts && sessionConsumers(accounts, { now: accounts.now }),
  });
  const docs = new ApiDocs(table, accounts ? [AUTH_OPENAPI, ACCOUNT_OPENAPI, ADMIN_OPENAPI] : []);

  // Typed as Fastify's logger, so Fastify's generics are not inferred from pino's richer type.
  const controlLogger: FastifyBaseLogger = logger.child({ plane: "control" });
  const app = Fastify({
    loggerInstance: controlLogger,
    // The control plane logs its errors, not a line per docs asset fetched.
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (controlPlane) =>
      createServer(SERVER_LIMITS, (req: IncomingMessage, res: ServerResponse) => {
        if (req.url?.startsWith(API_PREFIX)) gateway(req, res);
        else controlPlane(req, res);
      }),
  });
  try {
    await registerControlPlane(app, { table, docs, metrics, accounts, limiterStore: store, adminToken: options.adminToken, trust, ipv6Prefix: config.server.ipv6Prefix });
    await Promise.all([docs.refresh(), store.ready?.()]);
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    await Promise.allSettled([app.close(), closeRouteTable(table), store.close(), demo?.close(), plans?.close()]);
    throw error;
  }

  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  if (hasPlaintextKeys(config.consumers) && !isLoopback(config.server.host)) {
    logger.warn({ host: config.server.host }, 'the config holds plaintext API keys and Sluice listens beyond loopback: store keys as "sha256:<hex>" (docs/security.md)');
  }
  logger.info({ url, services: [...table.keys()], demo: demo ? Object.fromEntries(demo.urls) : undefined }, "sluice is listening");

  return {
    url,
    demo,
    metrics,
    close: async () => {
      await app.close();
      await Promise.allSettled([closeRouteTable(table), store.close(), demo?.close(), plans?.close()]);
    },
  };
}

/** Starts only the demo services that the config's `demo://` upstreams name (the schema checked the names). */
async function startNeededDemos(config: SluiceConfig, enabled: boolean): Promise<RunningDemo | undefined> {
  const wanted = Object.entries(config.services).filter(([, s]) => s.upstream.startsWith(DEMO_SCHEME));
  if (wanted.length === 0) return undefined;
  if (!enabled) {
    throw new ConfigError("configuration", wanted.map(([name, s]) => ({
      line: 0,
      column: 0,
      path: `services.${name}.upstream`,
      message: `${s.upstream} needs the demo services, which --no-demo turned off; point it at a real URL`,
    })));
  }
  return startDemoServices([...new Set(wanted.map(([, s]) => s.upstream.slice(DEMO_SCHEME.length) as DemoServiceName))]);
}

function resolveUpstream(upstream: string, demo: RunningDemo | undefined): string {
  return upstream.startsWith(DEMO_SCHEME) ? demo!.urls.get(upstream.slice(DEMO_SCHEME.length) as DemoServiceName)! : upstream;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
