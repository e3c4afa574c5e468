/**
 * The Redis connection the limiter uses, set up for a rate limiter rather than a cache:
 * - no offline queue and no resend after a reconnect: a decision that cannot be made now is
 *   answered by the limit's failure mode, never replayed later (a replay would count twice);
 * - commands written in the order they are made, at once: no auto-pipelining, which would put a
 *   command off by one turn of the event loop. The store batches decisions itself and times each
 *   call from its write, and a lease it gives back must reach Redis before a later decision does;
 * - reconnection in the background with a short, capped back-off.
 * createRedisClient connects to one Redis; createRedisCluster to a Redis Cluster, from its seeds;
 * createRedisSentinelClient to the primary of a master group that Redis Sentinel watches, and to
 * its successor after a failover.
 */
import { Cluster, Redis, type ClusterNode } from "ioredis";

export interface RedisClientOptions {
  /**
   * A command that has no reply by then is given up, so a hung server cannot hold commands
   * forever. Longer than the decision deadline: a reply that comes after the deadline is still
   * read, so a charge its caller was refused can be given back (lateReplyWindow).
   */
  readonly commandTimeoutMs: number;
}

/** How long the limiter's client waits for a reply that missed the decision deadline `timeoutMs`. */
export function lateReplyWindow(timeoutMs: number): number {
  return Math.max(2_000, 20 * timeoutMs);
}


const CONNECT_TIMEOUT_MS = 2_000;
const CONNECTION_NAME = "sluice-limiter";
const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** attempt, 1_000);

/**
 * One Redis, from a URL ioredis understands.
 * @example createRedisClient("redis://127.0.0.1:6379", { commandTimeoutMs: 50 })
 */
export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  return new Redis(url, connectionOptions(options));
}

/**
 * How a connection to one Redis behaves, standalone or behind Sentinel: no offline queue and
 * nothing resent after a reconnect (a resent script could count a request twice), no retries of a
 * command, commands written in order as they are made, and the late-reply window as the command timeout.
 */
function connectionOptions(options: RedisClientOptions) {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: false,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
    connectionName: CONNECTION_NAME,
  };
}

/**
 * A Redis Cluster, from one seed node or a comma-separated list of them; the client learns the
 * other nodes and the slot map from the seeds. Credentials and TLS (`rediss://`) are taken from
 * the seeds' URLs; a database number is refused, as a cluster has only database 0.
 * @example createRedisCluster("redis://10.0.0.1:6379,redis://10.0.0.2:6379", { commandTimeoutMs: 50 })
 */
export function createRedisCluster(seeds: string, options: RedisClientOptions): Cluster {
  const { nodes, username, password, tls } = parseClusterSeeds(seeds);
  return new Cluster(nodes, {
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    // Writes and scripts go to masters anyway; reading a replica would decide on stale counts.
    scaleReads: "master",
    clusterRetryStrategy: reconnectDelay,
    clusterNodeRetryStrategy: reconnectDelay,
    // "Connection is closed" may come after the script ran on the node: resending it could
    // count the request twice, so fail now and let the failure mode answer.
    retryDelayOnFailover: 0,
    // A cluster without a majority will not heal within a decision's deadline: fail fast.
    retryDelayOnClusterDown: 0,
    // MOVED, ASK and TRYAGAIN are still followed: the node refused the command without running it.
    redisOptions: {
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: CONNECT_TIMEOUT_MS,
      connectionName: CONNECTION_NAME,
      ...(username !== undefined && { username }),
      ...(password !== undefined && { password }),
      ...(tls && { tls: {} }),
    },
  });
}

/**
 * The primary of a Sentinel master group, found through the Sentinels REDIS_URL lists (a
 * comma-separated list, like Cluster seeds). When Sentinel fails over, it closes the old
 * primary's connections; the client asks the Sentinels again and reconnects to the new one; meanwhile
 * decisions fail and the limits' onStoreFailure answers. Credentials and TLS from the URLs apply
 * to the Sentinels and the Redis servers alike.
 * @example createRedisSentinelClient("redis://10.0.0.1:26379,redis://10.0.0.2:26379", "sluice", { commandTimeoutMs: 50 })
 */
export function createRedisSentinelClient(sentinels: string, name: string, options: RedisClientOptions): Redis {
  const { nodes, username, password, tls } = parseClusterSeeds(sentinels, "Sentinel");
  return new Redis({
    // parseClusterSeeds makes every node a { host, port }.
    sentinels: nodes as { host: string; port: number }[],
    name,
    sentinelRetryStrategy: reconnectDelay,
    // A demoted primary answers writes with READONLY: reconnect, which asks the Sentinels for the new one.
    // (Sentinel also closes the old primary's client connections when it fails over.)
    reconnectOnError: (error) => error.message.startsWith("READONLY"),
    ...connectionOptions(options),
    ...(username !== undefined && { username, sentinelUsername: username }),
    ...(password !== undefined && { password, sentinelPassword: password }),
    ...(tls && { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }),
  });
}

export interface ClusterSeeds {
  readonly nodes: ClusterNode[];
  readonly username?: string;
  readonly password?: string;
  readonly tls: boolean;
}

/**
 * Splits `redis://host:port,redis://host:port` into seed nodes. Throws a readable error for
 * anything else, since a mistyped seed list would otherwise surface as an endless reconnect.
 * @example parseClusterSeeds("redis://:secret@10.0.0.1:7000") // nodes [{host: "10.0.0.1", port: 7000}], password "secret"
 */
export function parseClusterSeeds(seeds: string, kind: "Redis Cluster" | "Sentinel" = "Redis Cluster"): ClusterSeeds {
  const urls = seeds.split(",").map((seed) => seed.trim()).filter((seed) => seed !== "");
  if (urls.length === 0) throw new Error(kind === "Sentinel" ? "REDIS_URL names no Sentinel" : "REDIS_URL names no Redis Cluster seed node");
  let username: string | undefined;
  let password: string | undefined;
  const schemes = new Set<string>();
  const nodes = urls.map((seed): ClusterNode => {
    let url: URL;
    try {
      url = new URL(seed);
    } catch {
      throw new Error(`REDIS_URL: "${redactSeed(seed)}" is not a redis://host:port URL`);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") throw new Error(`REDIS_URL: ${kind === "Sentinel" ? "Sentinels" : "cluster seeds"} are redis:// or rediss:// URLs, not ${url.protocol}//`);
    if (url.pathname !== "" && url.pathname !== "/" && url.pathname !== "/0") throw new Error(`REDIS_URL: ${kind === "Sentinel" ? "Sluice keeps its limits in database 0 behind Sentinel" : "a Redis Cluster has database 0 only"}; remove the database number`);
    schemes.add(url.protocol);
    if (url.username !== "") username ??= decodeURIComponent(url.username);
    if (url.password !== "") password ??= decodeURIComponent(url.password);
    return { host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: url.port === "" ? 6379 : Number(url.port) };
  });
  if (schemes.size > 1) throw new Error(`REDIS_URL: mix of redis:// and rediss:// URLs; ${kind === "Sentinel" ? "Sentinels use" : "a cluster uses"} TLS on every node or on none`);
  return { nodes, ...(username !== undefined && { username }), ...(password !== undefined && { password }), tls: schemes.has("rediss:") };
}

function redactSeed(seed: string): string {
  return seed.replace(/\/\/[^@/]*@/, "//***@");
}
