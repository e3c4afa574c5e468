/**
 * The config's services, compiled once for the hot path: a Map from service name to its upstream
 * pool, routes and limits, with the `RateLimit-Policy` header of each route already formatted.
 */
import { Pool } from "undici";
import type { LimitConfig, RouteConfig, ServiceConfig, SluiceConfig } from "../config/schema.js";
import { rateLimitPolicyHeader } from "../limiter/headers.js";
import type { Policy } from "../limiter/policy.js";
import type { Exchange } from "./exchange.js";
import { compileLimitKey } from "./limitKeys.js";

export interface CompiledLimit {
  readonly policy: Policy;
  readonly key: (exchange: Exchange) => string;
}

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
}

export interface CompiledService {
  readonly name: string;
  readonly upstream: URL;
  /** The upstream URL's path without a trailing slash, prepended to every forwarded path. */
  readonly basePath: string;
  readonly pool: Pool;
  readonly timeoutMs: number;
  readonly routes: readonly CompiledRoute[];
  readonly config: ServiceConfig;
}

export type RouteTable = ReadonlyMap<string, CompiledService>;

/** `upstreams` maps each service to its resolved URL (demo:// already replaced by a real address). */
export function compileRouteTable(config: SluiceConfig, upstreams: ReadonlyMap<string, string>): RouteTable {
  const limits = new Map<string, CompiledLimit>(
    Object.entries(config.limits).map(([name, limit]) => [name, { policy: toPolicy(name, limit), key: compileLimitKey(name, limit.by, config.server.ipv6Prefix) }]),
  );
  const pick = (names: readonly string[]) => names.map((name) => limits.get(name)!);

  const table = new Map<string, CompiledService>();
  for (const [name, service] of Object.entries(config.services)) {
    const upstream = new URL(upstreams.get(name) ?? service.upstream);
    const serviceLimits = pick(service.limits ?? config.defaults.limits);
    const routes = service.routes?.map((route, i) => compileRoute(`${name}:${i}`, route, route.limits ? pick(route.limits) : serviceLimits))
      ?? [compileRoute(`${name}:*`, { path: "/*", cost: 1 }, serviceLimits)];
    table.set(name, {
      name,
      upstream,
      basePath: upstream.pathname.replace(/\/+$/, ""),
      pool: new Pool(upstream.origin, { connections: 256, keepAliveTimeout: 4_000, connectTimeout: 5_000, headersTimeout: service.timeout }),
      timeoutMs: service.timeout,
      routes,
      config: service,
    });
  }
  return table;
}

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
  await Promise.all([...table.values()].map((service) => service.pool.close()));
}

function compileRoute(id: string, { path, methods, cost }: Pick<RouteConfig, "path" | "methods" | "cost">, limits: readonly CompiledLimit[]): CompiledRoute {
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
  };
}

/** A concurrency lease nobody releases (a crashed gateway) lapses after this, unless the limit says otherwise. */
const DEFAULT_LEASE_MS = 60_000;

export function toPolicy(name: string, limit: LimitConfig): Policy {
  const common = {
    name,
    limit: limit.limit,
    windowMs: limit.window ?? DEFAULT_LEASE_MS,
    ...(limit.shadow && { shadow: true }),
    onStoreFailure: limit.onStoreFailure,
  };
  switch (limit.algorithm) {
    case "gcra": return { ...common, algorithm: "gcra", ...(limit.burst !== undefined && { burst: limit.burst }) };
    case "token-bucket": return { ...common, algorithm: "token-bucket", capacity: limit.capacity ?? limit.limit };
    case "fixed-window": return { ...common, algorithm: "fixed-window", ...(limit.align !== undefined && { align: limit.align }) };
    default: return { ...common, algorithm: limit.algorithm };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
