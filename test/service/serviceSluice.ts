/**
 * A real Sluice for the rate-limit service's tests, on the memory store (a manual clock) or on
 * the test Redis (its own key prefix, so tests never share counters), with a `post` that calls
 * the service with a token.
 */
import { parseConfig } from "../../src/config/loader.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice, type SluiceOptions } from "../../src/sluice.js";
import { ManualClock } from "../support/manualClock.js";
import { TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";

export const ADMIN_TOKEN = "admin-token-for-service-tests-42";

export type Backend = "memory" | "redis";

export interface ServiceSluice extends RunningSluice {
  readonly clock: ManualClock;
  /** The Redis key prefix (redis backend). */
  readonly prefix: string;
  /** POSTs `body` (JSON unless a string) to `path` with `Authorization: Bearer <token>` (none when token is null). */
  post(path: string, body: unknown, token?: string | null): Promise<Response>;
  /** POST /v1/ratelimit with the admin token, answering the parsed JSON. */
  decide(body: unknown): Promise<Record<string, unknown>>;
}

export interface ServiceSluiceOptions extends Pick<SluiceOptions, "accounts"> {
  /** Turn on the Envoy gRPC service on a free port. */
  readonly grpc?: boolean;
  readonly backend?: Backend;
  /** Share counters with another instance: the same prefix. */
  readonly prefix?: string;
  readonly redisUrl?: string;
  readonly adminToken?: string | undefined;
}

export async function startServiceSluice(yaml: string, options: ServiceSluiceOptions = {}): Promise<ServiceSluice> {
  const backend = options.backend ?? "memory";
  const prefix = options.prefix ?? uniquePrefix();
  const config = parseConfig(yaml, "test.yaml");
  const clock = new ManualClock();
  const sluice = await startSluice({
    config: {
      ...config,
      server: { ...config.server, host: "127.0.0.1", port: 0, ...(options.grpc === true && { grpcPort: 0 }) },
      limiter: { ...config.limiter, store: backend, keyPrefix: prefix },
    },
    clock: clock.read,
    logger: createLogger("silent"),
    redisUrl: backend === "redis" ? (options.redisUrl ?? TEST_REDIS_URL) : undefined,
    accounts: options.accounts,
    adminToken: "adminToken" in options ? options.adminToken : ADMIN_TOKEN,
  });
  const post = (path: string, body: unknown, token: string | null = ADMIN_TOKEN) => fetch(sluice.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token !== null && { authorization: `Bearer ${token}` }) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return {
    ...sluice,
    clock,
    prefix,
    post,
    decide: async (body) => {
      const response = await post("/v1/ratelimit", body);
      if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${await response.text()}`);
      return (await response.json()) as Record<string, unknown>;
    },
  };
}
