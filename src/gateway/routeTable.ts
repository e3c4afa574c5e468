/**
 * The config's services, compiled once for the hot path: a Map from service name to its upstream
 * targets (each with its keep-alive pool, health and circuit breaker), the balancer choosing
 * among them, the retry budget, and its routes and limits, with each route's `RateLimit-Policy`
 * header, rewrites and body limit already compiled. Health checks start here and stop in
 * `closeRouteTable`.
 */
import type { Dispatcher } from "undici";
import type { RouteConfig, ServiceConfig, SluiceConfig } from "../config/schema.js";
import { rateLimitPolicyHeader } from "../limiter/headers.js";
import type { Clock } from "../limits/clock.js";
import { compilePolicy, type CompiledLimit } from "../limits/compilePolicy.js";
import { compileLimitKey } from "../limits/limitKeys.js";
import { Balancer } from "./upstream/balancer.js";
import { HealthChecker } from "./upstream/healthCheck.js";
import { RetryBudget } from "./upstream/retryBudget.js";
import { compileRewrites, type CompiledRewrites } from "./upstream/rewrites.js";
import { UpstreamTarget } from "./upstream/target.js";

export interface CompiledRoute {
  /** `service:index`, or `service:*` for a service without routes; used in limit keys. */
  readonly id: string;
  /** Exact path, or a prefix when `prefix` is true. */
  readonly path: string;
  readonly prefix: boolean;
  /** For a path with ":name" segments: its matcher, whose groups are the parameters, and their names. */
  readonly pattern: RegExp | undefined;
  readonly params: readonly string[];
  /** Units each request takes from the route's limits. */
  readonly cost: number;
  /** Upper-case methods, or undefined for any. */
  readonly methods: ReadonlySet<string> | undefined;
  readonly limits: readonly CompiledLimit[];
  readonly policyHeader: string;
  /** Path and header rewrites; undefined when the route has none (the common, cheap case). */
  readonly rewrites: CompiledRewrites | undefined;
  /** Whether WebSocket upgrades pass through. */
  readonly websocket: boolean;
  /** Most request-body bytes the route accepts: its own, else its service's; undefined for server.maxBodySize. */
  readonly maxBodySize: number | undefined;
}

export interface CompiledService {
  readonly name: string;
  /** The first target's URL: the one address shown where a service shows one (docs, admin API). */
  readonly upstream: URL;
  /** The targets' common URL path without a trailing slash, prepended to every forwarded path. */
  readonly basePath: string;
  readonly targets: readonly UpstreamTarget[];
  readonly balancer: Balancer;
  /** Retries after a failed connection, within `budget`; undefined when off or with one target. */
  readonly retry: { readonly attempts: number; readonly budget: RetryBudget } | undefined;
  readonly healthCheck: HealthChecker | undefined;
  /** Longest wait for response headers (config: timeout), for the 504's detail. */
  readonly timeoutMs: number;
  /** Longest whole exchange with the upstream; 0 when none. */
  readonly totalTimeoutMs: number;
  /** A pool for the control plane's own requests (API docs): an available target's, else the first. */
  readonly pool: Dispatcher;
  readonly routes: readonly CompiledRoute[];
  readonly config: ServiceConfig;
}

export type RouteTable = ReadonlyMap<string, CompiledService>;

export interface RouteTableOptions {
  /** Clock of the circuit breakers and retry budgets; tests move it instead of sleeping. */
  readonly now?: Clock | undefined;
}

/**
 * `upstreams` maps each service to its resolved target URLs (demo:// already replaced by real
 * addresses); a service missing from it uses its configured URLs.
 */
export function compileRouteTable(config: SluiceConfig, upstreams: ReadonlyMap<string, readonly string[]>, options: RouteTableOptions = {}): RouteTable {
  const now = options.now ?? Date.now;
  const limits = new Map<string, CompiledLimit>(
    Object.entries(config.limits).map(([name, limit]) => [name, { policy: compilePolicy(name, limit), key: compileLimitKey(name, limit.by, config.server.ipv6Prefix) }]),
  );
  const pick = (names: readonly string[]) => names.map((name) => limits.get(name)!);

  const table = new Map<string, CompiledService>();
  for (const [name, service] of Object.entries(config.services)) {
    const urls = (upstreams.get(name) ?? service.upstreams).map((url) => new URL(url));
    const timeouts = { connectMs: service.connectTimeout, headersMs: service.timeout, bodyIdleMs: service.bodyTimeout };
    const breaker = { failures: service.circuitBreaker.failures, backoffMs: service.circuitBreaker.backoff, maxBackoffMs: service.circuitBreaker.maxBackoff };
    const targets = urls.map((url) => new UpstreamTarget(url, timeouts, breaker, now));
    const basePath = urls[0]!.pathname.replace(/\/+$/, "");
    const serviceLimits = pick(service.limits ?? config.defaults.limits);
    const routes = service.routes?.map((route, i) => compileRoute(`${name}:${i}`, route, route.limits ? pick(route.limits) : serviceLimits, basePath, service))
      ?? [compileRoute(`${name}:*`, { path: "/*", cost: 1 }, serviceLimits, basePath, service)];
    const balancer = new Balancer(targets, service.balance);
    const { attempts, budget, minPerSecond } = service.retries;
    const check = service.healthCheck;
    const healthCheck = check && new HealthChecker(targets, { path: check.path, intervalMs: check.interval, timeoutMs: check.timeout, healthyThreshold: check.healthyThreshold, unhealthyThreshold: check.unhealthyThreshold });
    healthCheck?.start();
    table.set(name, {
      name,
      upstream: urls[0]!,
      basePath,
      targets,
      balancer,
      retry: attempts > 0 && targets.length > 1 ? { attempts, budget: new RetryBudget({ ratio: budget, minPerSecond, windowMs: RETRY_WINDOW_MS }, now) } : undefined,
      healthCheck,
      timeoutMs: service.timeout,
      totalTimeoutMs: service.totalTimeout ?? 0,
      get pool() {
        return (targets.find((target) => target.available()) ?? targets[0]!).pool;
      },
      routes,
      config: service,
    });
  }
  return table;
}

/** The window over which retries are held to their share of requests. */
const RETRY_WINDOW_MS = 10_000;


/** What a route lookup found: the route, or why there is none for this method or path. */
export type RouteMatch =
  | { readonly route: CompiledRoute; readonly params: Readonly<Record<string, string>> | undefined }
  | { readonly route: undefined; readonly allowed: readonly string[] };

/**
 * Finds the route for a request under a service: the first route, in config order, whose path
 * matches (exactly, or as a prefix) and which accepts the method. When routes match the path but
 * none the method, `allowed` lists the methods they accept (for 405 and `Allow`); when no route
 * matches the path, it is empty (404).
 */
export function matchRoute(service: CompiledService, path: string, method: string): RouteMatch {
  const allowed = new Set<string>();
  for (const route of service.routes) {
    let params: Record<string, string> | undefined;
    if (route.pattern !== undefined) {
      const found = route.pattern.exec(path);
      if (found === null) continue;
      params = Object.fromEntries(route.params.map((name, i) => [name, found[i + 1] ?? ""]));
    } else if (route.prefix ? !(path.startsWith(route.path) || path === route.path.slice(0, -1)) : path !== route.path) continue;
    if (route.methods === undefined || route.methods.has(method)) return { route, params };
    for (const m of route.methods) allowed.add(m);
  }
  return { route: undefined, allowed: [...allowed] };
}

export async function closeRouteTable(table: RouteTable): Promise<void> {
  for (const service of table.values()) service.healthCheck?.stop();
  await Promise.all([...table.values()].flatMap((service) => service.targets.map((target) => target.pool.close())));
}

type RouteSettings = Pick<RouteConfig, "path" | "methods" | "cost"> & Partial<Pick<RouteConfig, "rewritePrefix" | "requestHeaders" | "responseHeaders" | "websocket" | "maxBodySize">>;

function compileRoute(id: string, route: RouteSettings, limits: readonly CompiledLimit[], basePath: string, service: ServiceConfig): CompiledRoute {
  const { path, methods, cost } = route;
  const prefix = path.endsWith("/*");
  const params = [...path.matchAll(/\/:([a-z_][a-z0-9_]*)/gi)].map((m) => m[1]!);
  const base = prefix ? path.slice(0, -2) : path;
  const pattern = params.length === 0 ? undefined : new RegExp(
    `^${base.split("/").map((segment) => (segment.startsWith(":") ? "([^/]+)" : escapeRegExp(segment))).join("/")}${prefix ? "(?:/.*)?" : ""}$`,
  );
  return {
    id,
    path: prefix ? path.slice(0, -1) : path,
    prefix,
    pattern,
    params,
    cost,
    // A route that answers GET answers HEAD too (RFC 9110 §9.3.2).
    methods: methods ? new Set(methods.includes("GET") ? [...methods, "HEAD"] : methods) : undefined,
    limits,
    policyHeader: rateLimitPolicyHeader(limits.map((l) => l.policy)),
    rewrites: compileRewrites(basePath, service, route),
    websocket: route.websocket ?? service.websocket,
    maxBodySize: route.maxBodySize ?? service.maxBodySize,
  };
}

/** A concurrency lease nobody releases (a crashed gateway) lapses after this, unless the limit says otherwise. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
