/**
 * Chooses where limit state lives: Redis when REDIS_URL is set (unless `limiter.store` says
 * memory), a single Redis or, with `limiter.cluster`, a Redis Cluster whose seed nodes REDIS_URL
 * lists, or, with `limiter.sentinel`, the primary of that master group, found through the
 * Sentinels REDIS_URL lists; behind the failover store's deadline, failure modes and over-limit cache. Otherwise the
 * in-process memory store. The Redis client (ioredis) and the Redis store are loaded only when
 * chosen: a gateway on the memory store never holds them.
 */
import type { SluiceConfig } from "../config/schema.js";
import type { Logger } from "../observability/logger.js";
import type { StoreObserver } from "../observability/observers.js";
import { FailoverStore } from "./failoverStore.js";
import { MemoryStore } from "./memoryStore.js";
import type { Clock } from "../limits/clock.js";
import type { RateLimitStore } from "./store.js";
import { redactUrl } from "../observability/redactUrl.js";

export interface StoreChoice {
  readonly limiter: SluiceConfig["limiter"];
  readonly redisUrl: string | undefined;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  /** Told of the shared store's latency and outages (the metrics); the memory store has none. */
  readonly observer?: StoreObserver | undefined;
}

export async function createLimiterStore({ limiter, redisUrl, logger, clock, observer }: StoreChoice): Promise<RateLimitStore> {
  const memory = () => new MemoryStore({ maxKeys: limiter.maxKeys, ...(clock && { clock }) });
  if (limiter.store === "memory" || (limiter.store === "auto" && !redisUrl)) return memory();
  if (!redisUrl) throw new Error("limiter.store is redis but REDIS_URL is not set");
  const { sentinel } = limiter;
  if (!limiter.cluster && sentinel === undefined && /,\s*rediss?:\/\//.test(redisUrl)) {
    throw new Error("REDIS_URL lists several Redis nodes; set limiter.cluster: true for a Redis Cluster, or limiter.sentinel to the master group's name for Sentinel");
  }
  const [{ createRedisClient, createRedisCluster, createRedisSentinelClient, lateReplyWindow }, { RedisStore }] = await Promise.all([import("./redis/client.js"), import("./redis/redisStore.js")]);
  const connection = { commandTimeoutMs: lateReplyWindow(limiter.timeout) };
  const client = limiter.cluster
    ? createRedisCluster(redisUrl, connection)
    : sentinel !== undefined ? createRedisSentinelClient(redisUrl, sentinel, connection) : createRedisClient(redisUrl, connection);
  // Connection trouble is reported by the failover store once per outage, not per retry.
  client.on("error", () => undefined);
  logger.info(
    { redis: (limiter.cluster || sentinel !== undefined ? redisUrl.split(",") : [redisUrl]).map((url) => redactUrl(url.trim())).join(","), cluster: limiter.cluster, sentinel },
    limiter.cluster ? "limits are kept in a Redis Cluster" : sentinel !== undefined ? `limits are kept in Redis, the primary of "${sentinel}" that Sentinel names` : "limits are kept in Redis",
  );
  return new FailoverStore({
    primary: new RedisStore({ client, keyPrefix: limiter.keyPrefix, timeoutMs: limiter.timeout }),
    fallback: memory(),
    timeoutMs: limiter.timeout,
    logger,
    ...(clock && { clock }),
    observer,
  });
}

