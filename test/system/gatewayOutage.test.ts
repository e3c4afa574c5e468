// The whole gateway, with REDIS_URL pointing at a private redis-server that goes down and comes
// back. One service is behind a paid quota that must never be overrun (onStoreFailure: closed),
// another behind an abuse guard that must not turn a Redis outage into an API outage (open).
// While Redis is down the quota's route answers 503 problem+json with Retry-After, the guarded
// one 200; once Redis is back both count in Redis again, without restarting the gateway.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { parseConfig } from "../../src/config/loader.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { queryRedis, startRedisServer, type RedisServer } from "../support/redisServer.js";

const KEY = "secret-key";
const CONFIG = parseConfig(`
limiter: { timeout: 50ms, keyPrefix: "system:" }
limits:
  paid-quota: { algorithm: fixed-window, limit: 1000, window: 1h, onStoreFailure: closed }
  abuse-guard: { algorithm: gcra, limit: 1000, window: 1m, onStoreFailure: open }
services:
  billing: { upstream: "demo://random-number", limits: [paid-quota] }
  random: { upstream: "demo://random-number", limits: [abuse-guard] }
consumers:
  demo: { keys: [${KEY}] }
`, "system.yaml");
const RECOVERY_LIMIT_MS = 15_000;
/** Calls refused during the outage: were any replayed after it, Redis would count them. */
const OUTAGE_CALLS = 5;

let redis: RedisServer;
let sluice: RunningSluice;

before(async () => {
  redis = await startRedisServer();
  sluice = await startSluice({ config: { ...CONFIG, server: { ...CONFIG.server, host: "127.0.0.1", port: 0 } }, redisUrl: redis.url, logger: createLogger("silent") });
  // The first decision loads the script into Redis (NOSCRIPT, then EVAL): on a busy machine it
  // may miss the 50 ms deadline, as the first one after any Redis restart may.
  await untilAdmitted();
});
after(async () => {
  await sluice.close();
  await redis.close();
});

const call = (service: "billing" | "random") => fetch(`${sluice.url}/api/${service}/number`, { headers: { "x-api-key": KEY } });

/** Calls the quota's route until it answers 200; resolves with the number of calls it took. */
async function untilAdmitted(): Promise<number> {
  const deadline = Date.now() + RECOVERY_LIMIT_MS;
  for (let calls = 1; ; calls++) {
    const response = await call("billing");
    await response.body?.cancel();
    if (response.status === 200) return calls;
    assert.equal(response.status, 503);
    assert.ok(Date.now() < deadline, `the quota's route still answered 503 after ${RECOVERY_LIMIT_MS} ms`);
    await delay(50);
  }
}

/** The count Redis holds for the paid quota of consumer demo ("start count"), or undefined. */
async function quotaInRedis(): Promise<number | undefined> {
  const value = await queryRedis(redis.port, ["GET", "system:{c=demo}paid-quota:f"]);
  return value === null ? undefined : Number(value.split(" ")[1]);
}

describe("a gateway whose Redis goes down and comes back", () => {
  it("counts both limits in Redis while it is up", async () => {
    const before = (await quotaInRedis()) ?? 0;
    for (const service of ["billing", "random"] as const) {
      const response = await call(service);
      assert.equal(response.status, 200, service);
      await response.body?.cancel();
    }
    assert.equal(await quotaInRedis(), before + 1);
    assert.notEqual(await queryRedis(redis.port, ["GET", "system:{c=demo}abuse-guard:g"]), null);
  });

  it("refuses the closed limit's route with 503 problem+json and Retry-After while Redis is down", async () => {
    await redis.stop();
    for (let i = 0; i < OUTAGE_CALLS - 1; i++) {
      const refused = await call("billing");
      await refused.body?.cancel();
      assert.equal(refused.status, 503);
    }
    const response = await call("billing");
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    assert.equal(response.headers.get("retry-after"), "1");
    const problem = (await response.json()) as { status: number; code: string };
    assert.deepEqual([problem.status, problem.code], [503, "SLUICE_ERR_LIMITER_UNAVAILABLE"]);
  });

  it("admits the open limit's route while Redis is down", async () => {
    const response = await call("random");
    assert.equal(response.status, 200);
    assert.equal(typeof ((await response.json()) as { number: unknown }).number, "number");
  });

  it("counts in Redis again once it is back, with no restart of the gateway", async () => {
    await redis.start();
    // The client reconnects in the background, at most a second apart; until then, 503.
    const calls = await untilAdmitted();
    // The restarted Redis kept nothing on disk, so it holds only calls made since it started, none
    // of the outage's (a call refused because Redis answered after the deadline is counted there
    // too, docs/redis.md, hence "at most").
    const counted = (await quotaInRedis()) ?? 0;
    assert.ok(counted >= 1 && counted <= calls, `Redis counts ${counted} after ${calls} calls since its restart`);
    const response = await call("billing");
    assert.equal(response.status, 200);
    assert.equal(await quotaInRedis(), counted + 1, "each admitted call counts once in Redis");
  });
});
