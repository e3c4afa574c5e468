/**
 * A running Sluice for the rate-limit service's callers (the client, the middlewares, Envoy's
 * gRPC protocol): started in-process on free ports from a YAML string, with limit state in
 * memory or in the real Redis under a key prefix of its own, and an admin token to call it with.
 */
import { parseConfig } from "../../src/config/loader.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";

/** Every suite of the service's callers runs once per store. */
export const TEST_STORES = ["memory", "redis"] as const;
export type TestStore = (typeof TEST_STORES)[number];

export const SERVICE_TOKEN = "test-admin-token-for-the-service";

export interface ServiceSluice extends RunningSluice {
  readonly token: string;
  /** The Redis key prefix when the store is Redis, so several instances can share one. */
  readonly keyPrefix: string | undefined;
}

export interface ServiceSluiceOptions {
  /** Share counters with another instance started with the same prefix. */
  readonly keyPrefix?: string;
  /** Turn on the Envoy gRPC service on a free port. */
  readonly grpc?: boolean;
}

export async function startServiceSluice(yaml: string, store: TestStore, options: ServiceSluiceOptions = {}): Promise<ServiceSluice> {
  const config = parseConfig(yaml, "test.yaml");
  const keyPrefix = store === "redis" ? options.keyPrefix ?? uniquePrefix() : undefined;
  const sluice = await startSluice({
    config: {
      ...config,
      server: { ...config.server, host: "127.0.0.1", port: 0, ...(options.grpc === true && { grpcPort: 0 }) },
      limiter: { ...config.limiter, store, ...(keyPrefix !== undefined && { keyPrefix }), timeout: 1_000 },
    },
    redisUrl: store === "redis" ? TEST_REDIS_URL : undefined,
    logger: createLogger("silent"),
    adminToken: SERVICE_TOKEN,
    demo: false,
  });
  return Object.assign(sluice, { token: SERVICE_TOKEN, keyPrefix });
}
