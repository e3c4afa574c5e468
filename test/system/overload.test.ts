// Overload is its own answer. A Sluice whose Redis is frozen (CLIENT PAUSE) holds its decisions
// in flight; past server.overload.maxPendingDecisions, new requests on every plane — the gateway,
// POST /v1/ratelimit and gRPC ShouldRateLimit — are refused at once (503 problem with Retry-After,
// gRPC UNAVAILABLE), counted in /metrics, and never charged: when Redis wakes, it holds exactly the
// requests that were admitted.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { status, type ServiceError } from "@grpc/grpc-js";
import { parseConfig } from "../../src/config/loader.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { envoyRlsClient, type EnvoyRlsClient } from "../service/grpc/envoyRlsClient.js";
import { metricLines } from "../support/metricLines.js";
import { pollUntil } from "../support/poll.js";
import { queryRedis, startRedisServer, type RedisServer } from "../support/redisServer.js";

const ADMIN_TOKEN = "overload-admin-token-0123456789";
const PAUSE_MS = 1_500;
const MAX_PENDING = 2;

let redis: RedisServer;
let sluice: RunningSluice;
let rls: EnvoyRlsClient;

before(async () => {
  redis = await startRedisServer();
  const config = parseConfig(`
server: { grpcPort: 0, overload: { maxPendingDecisions: ${MAX_PENDING} } }
limiter: { timeout: 10s, keyPrefix: "overload:" }
limits:
  per-client: { algorithm: fixed-window, limit: 100, window: 1h, by: [consumer] }
services:
  users: { upstream: "demo://users", limits: [per-client] }
consumers:
  demo: { keys: [secret-key] }
policies:
  edge:
    descriptors:
      - key: user
        limit: { algorithm: fixed-window, limit: 100, window: 1h }
`, "overload.yaml");
  sluice = await startSluice({ config: { ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } }, redisUrl: redis.url, adminToken: ADMIN_TOKEN, logger: createLogger("silent") });
  rls = envoyRlsClient(`127.0.0.1:${sluice.grpcPort}`);
});
after(async () => {
  rls?.close();
  await sluice?.close();
  await redis?.close();
});

const callGateway = () => fetch(`${sluice.url}/api/users/users/104`, { headers: { "x-api-key": "secret-key" } });
const callService = () => fetch(`${sluice.url}/v1/ratelimit`, {
  method: "POST",
  headers: { "authorization": `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({ identifier: "app-user", limit: 100, duration: "1h" }),
});
const callGrpc = () => rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: [{ key: "user", value: "u1" }] }] });

describe("a Sluice whose Redis is frozen, with more decisions waiting than it allows", () => {
  let queued: Response[] = [];
  let gatewayShed: Response;
  let serviceShed: Response;
  let grpcShed: ServiceError;

  before(async () => {
    // Every plane decides once in Redis before the freeze: the script is loaded, the keys exist.
    assert.equal((await callGateway()).status, 200);
    assert.equal((await callService()).status, 200);
    assert.equal((await callGrpc()).overall_code, "OK");

    assert.equal(await queryRedis(redis.port, ["CLIENT", "PAUSE", String(PAUSE_MS), "ALL"]), "OK");
    const waiting = [callGateway(), callGateway(), callGateway()];
    const pending = await pollUntil(async () => metricLines(await sluice.metrics.render(), "sluice_limiter_store_pending")[0], (line) => line === "sluice_limiter_store_pending 3", PAUSE_MS / 2);
    assert.equal(pending, "sluice_limiter_store_pending 3", "three decisions wait for the frozen Redis");
    gatewayShed = await callGateway();
    serviceShed = await callService();
    grpcShed = await callGrpc().then(() => assert.fail("gRPC admitted"), (e: ServiceError) => e);
    queued = await Promise.all(waiting);
  });

  it("refuses a gateway request at once with a 503 problem and Retry-After", async () => {
    assert.equal(gatewayShed.status, 503);
    assert.equal(gatewayShed.headers.get("retry-after"), "1");
    assert.equal(gatewayShed.headers.get("content-type"), "application/problem+json");
    const problem = (await gatewayShed.json()) as { code: string; detail: string };
    assert.equal(problem.code, "SLUICE_ERR_OVERLOADED");
    assert.match(problem.detail, /decisions wait for the limiter store \(bound 2\)/);
  });

  it("refuses a rate-limit API call and a gRPC call the same way", async () => {
    assert.equal(serviceShed.status, 503);
    assert.equal(serviceShed.headers.get("retry-after"), "1");
    assert.equal(((await serviceShed.json()) as { code: string }).code, "SLUICE_ERR_OVERLOADED");
    assert.equal(grpcShed.code, status.UNAVAILABLE);
    assert.match(grpcShed.details, /overloaded/);
  });

  it("answers the requests that were waiting once Redis wakes, by Redis", () => {
    assert.deepEqual(queued.map((r) => r.status), [200, 200, 200]);
  });

  it("never charged a shed request: Redis counts exactly the admitted ones, on every plane", async () => {
    const shedMetric = metricLines(await sluice.metrics.render(), "sluice_overload_shed_total");
    assert.deepEqual(shedMetric, ['sluice_overload_shed_total{plane="gateway"} 1', 'sluice_overload_shed_total{plane="service"} 1', 'sluice_overload_shed_total{plane="grpc"} 1']);
    const counted = await queryRedis(redis.port, ["GET", "overload:{c=demo}per-client:f"]);
    assert.equal(counted?.split(" ")[1], "4", "the warm-up and the three that waited");
    // The service's and gRPC's second admitted call: the warm-up was the only one before it.
    assert.equal(((await (await callService()).json()) as { remaining: number }).remaining, 98);
    assert.equal((await callGrpc()).statuses[0]?.limit_remaining, 98);
  });
});
