/**
 * The `sluice_upstream_healthy` gauge's readings, taken from the route table's targets when
 * scraped: a target is healthy (1) while its active health check passes and its circuit breaker
 * is closed; unhealthy, ejected or probing after an ejection, it reads 0. (The states themselves
 * live in gateway/upstream/target.ts.)
 *
 * @example
 * createMetrics({ upstreamHealth: () => upstreamHealth(table) });
 */
import type { RouteTable } from "../gateway/routeTable.js";

/** One upstream target's reading. */
export interface UpstreamHealth {
  readonly service: string;
  /** The target's origin, e.g. "http://10.0.0.7:9000" (never credentials). */
  readonly target: string;
  readonly healthy: 0 | 1;
}

export function* upstreamHealth(table: RouteTable): Generator<UpstreamHealth> {
  for (const service of table.values()) {
    for (const target of service.targets) yield { service: service.name, target: target.url.origin, healthy: target.health.state === "healthy" ? 1 : 0 };
  }
}
