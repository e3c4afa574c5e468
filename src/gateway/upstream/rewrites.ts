/**
 * A route's configured rewrites, compiled once at start-up: the forwarded path's prefix
 * replaced or stripped, request and response headers set or removed (the service's rewrites
 * joined with the route's, the route's winning). A route with none compiles to undefined, so the
 * proxy's common path checks one field and does nothing more.
 */
import type { RouteConfig, ServiceConfig } from "../../config/schema.js";

type HeaderRewritesConfig = NonNullable<ServiceConfig["requestHeaders"]>;

export interface HeaderRewrites {
  /** [name, value] pairs to set, in order. */
  readonly set: readonly (readonly [string, string])[];
  /** Names dropped from the message: the removed ones and those about to be set. */
  readonly drop: ReadonlySet<string>;
}

export interface CompiledRewrites {
  /** The upstream path prefix (base path included) to replace; undefined: the path is kept. */
  readonly pathFrom: string | undefined;
  readonly pathTo: string;
  readonly request: HeaderRewrites | undefined;
  readonly response: HeaderRewrites | undefined;
}

export function compileRewrites(basePath: string, service: ServiceConfig, route: Partial<Pick<RouteConfig, "rewritePrefix" | "requestHeaders" | "responseHeaders">>): CompiledRewrites | undefined {
  const request = joinHeaderRewrites(service.requestHeaders, route.requestHeaders);
  const response = joinHeaderRewrites(service.responseHeaders, route.responseHeaders);
  const prefix = route.rewritePrefix;
  if (request === undefined && response === undefined && prefix === undefined) return undefined;
  return {
    pathFrom: prefix && basePath + prefix.from.replace(/\/+$/, ""),
    pathTo: prefix ? basePath + prefix.to.replace(/\/+$/, "") : "",
    request,
    response,
  };
}

/**
 * `path` (base path, path under the service, query) with the prefix replaced when it matches
 * at a segment boundary: "/v1" rewrites "/v1" and "/v1/x", not "/v10".
 */
export function rewritePath(rewrites: CompiledRewrites, path: string): string {
  const from = rewrites.pathFrom;
  if (from === undefined || !path.startsWith(from)) return path;
  const next = path.charCodeAt(from.length);
  if (!(Number.isNaN(next) || next === 0x2f /* / */ || next === 0x3f /* ? */)) return path;
  const rest = path.slice(from.length);
  return rewrites.pathTo + (rest === "" || rest.charCodeAt(0) === 0x3f ? (rewrites.pathTo === "" ? "/" : "") + rest : rest);
}

function joinHeaderRewrites(service: HeaderRewritesConfig | undefined, route: HeaderRewritesConfig | undefined): HeaderRewrites | undefined {
  if (service === undefined && route === undefined) return undefined;
  const set = new Map([...Object.entries(service?.set ?? {}), ...Object.entries(route?.set ?? {})]);
  for (const name of route?.remove ?? []) set.delete(name);
  const drop = new Set([...(service?.remove ?? []), ...(route?.remove ?? []), ...set.keys()]);
  return { set: [...set], drop };
}
