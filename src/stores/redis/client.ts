/**
 * The Redis connection the limiter uses, set up for a rate limiter rather than a cache:
 * - no offline queue and no resend after a reconnect: a decision that cannot be made now is
 *   answered by the limit's failure mode, never replayed later (a replay would count twice);
 * - auto-pipelining: commands of concurrent requests share one write to the socket;
 * - reconnection in the background with a short, capped back-off.
 */
import { Redis } from "ioredis";

export function createRedisClient(url: string, options: { readonly commandTimeoutMs: number }): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    enableAutoPipelining: true,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    connectionName: "sluice-limiter",
  });
}
