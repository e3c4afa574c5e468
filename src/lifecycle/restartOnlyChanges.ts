/**
 * The settings a reload cannot apply to a running process, because something built once at
 * start-up holds them: the listening sockets and the HTTP server's limits (server.*), the limiter
 * store and its connection (limiter.*), the logger (log.*) and the trace exporter (tracing, a
 * whole section, present or not). Exceptions, read when they are
 * used: server.drainDelay and server.shutdownTimeout (at shutdown), server.maxBodySize and
 * server.invalidKeys (compiled into each gateway generation) and limiter.legacyHeaders (by the
 * gateway's limit stage).
 * The database and Redis come from the environment (DATABASE_URL, REDIS_URL), which a reload
 * does not read again.
 *
 * A reload applies everything else (services, routes, limits, defaults, consumers, the rate-limit
 * service's named policies) and names the restart-only settings that changed in its log line, so
 * an operator knows a restart is still owed. docs/operations.md#reload lists them.
 *
 * @example
 * const { config, pending } = reloadableConfig(running, edited);
 * // config: edited, but with the running server.port; pending: ["server.port"]
 */
import { isDeepStrictEqual } from "node:util";
import type { SluiceConfig } from "../config/schema.js";

/** Sections whose fields need a restart, but for the listed ones, which a reload applies. */
const RESTART_ONLY_SECTIONS = {
  server: new Set(["drainDelay", "shutdownTimeout", "maxBodySize", "invalidKeys"]),
  limiter: new Set(["legacyHeaders"]),
  log: new Set<string>(),
} as const;

/** Optional sections that need a restart as a whole: turning one on or off included. */
const RESTART_ONLY_WHOLE = ["tracing"] as const;

export interface ReloadableConfig {
  /** The new config with the running values of the restart-only settings: what a reload applies. */
  readonly config: SluiceConfig;
  /** Restart-only settings the new file changes, as dotted paths; they wait for a restart. */
  readonly pending: readonly string[];
}

export function reloadableConfig(running: SluiceConfig, next: SluiceConfig): ReloadableConfig {
  const pending: string[] = [];
  const merged: Record<string, unknown> = { ...next };
  for (const [section, reloadable] of Object.entries(RESTART_ONLY_SECTIONS)) {
    const before = running[section as keyof typeof RESTART_ONLY_SECTIONS] as Record<string, unknown>;
    const after = next[section as keyof typeof RESTART_ONLY_SECTIONS] as Record<string, unknown>;
    const kept: Record<string, unknown> = { ...after };
    for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (reloadable.has(field) || isDeepStrictEqual(before[field], after[field])) continue;
      pending.push(`${section}.${field}`);
      if (field in before) kept[field] = before[field];
      else delete kept[field];
    }
    merged[section] = kept;
  }
  for (const section of RESTART_ONLY_WHOLE) {
    if (isDeepStrictEqual(running[section], next[section])) continue;
    pending.push(section);
    if (running[section] === undefined) delete merged[section];
    else merged[section] = running[section];
  }
  return { config: merged as SluiceConfig, pending };
}
