/**
 * The `sluice_upstream_healthy` gauge's readings, taken from the route table's targets when
 * scraped: a target is healthy (1) while its active health check passes and its circuit breaker
 * is closed; unhealthy, ejected or probing after an ejection, it reads 0. (The states themselves
 * live in gateway/upstream/target.ts.)
 *
 * @example
 * createMetrics({ upstreamHealth: () => upstreamHealth(table) });
 */
import type { UpstreamHealth } from "../../observability/observers.js";
import type { RouteTable } from "../routeTable.js";

export function* upstreamHealth(table: RouteTable): Generator<UpstreamHealth> {
  for (const service of table.values()) {
    for (const target of service.targets) yield { service: service.name, target: target.url.origin, healthy: target.health.state === "healthy" ? 1 : 0 };
  }
}
