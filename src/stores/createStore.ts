/**
 * Chooses where limit state lives: Redis when REDIS_URL is set (unless `limiter.store` says
 * memory), behind the failover store's deadline, failure modes and over-limit cache; otherwise
 * the in-process memory store.
 */
import type { SluiceConfig } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import { FailoverStore } from "./failoverStore.js";
import { MemoryStore } from "./memoryStore.js";
import { createRedisClient } from "./redis/client.js";
import { RedisStore } from "./redis/redisStore.js";
import type { Clock, RateLimitStore } from "./store.js";

export interface StoreChoice {
  readonly limiter: SluiceConfig["limiter"];
  readonly redisUrl: string | undefined;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
}

export function createLimiterStore({ limiter, redisUrl, logger, clock }: StoreChoice): RateLimitStore {
  const memory = () => new MemoryStore(clock ? { clock } : {});
  if (limiter.store === "memory" || (limiter.store === "auto" && !redisUrl)) return memory();
  if (!redisUrl) throw new Error("limiter.store is redis but REDIS_URL is not set");
  const client = createRedisClient(redisUrl, { commandTimeoutMs: limiter.timeout });
  // Connection trouble is reported by the failover store once per outage, not per retry.
  client.on("error", () => undefined);
  logger.info({ redis: redactUrl(redisUrl) }, "limits are kept in Redis");
  return new FailoverStore({
    primary: new RedisStore({ client, keyPrefix: limiter.keyPrefix }),
    fallback: memory(),
    timeoutMs: limiter.timeout,
    logger,
    ...(clock && { clock }),
  });
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparsable REDIS_URL>";
  }
}
