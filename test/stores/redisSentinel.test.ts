// Limits in a Redis watched by Sentinel (limiter.sentinel): a private primary, its replica and one
// Sentinel. Decisions go to the primary Sentinel names; after a failover they go to the promoted
// replica, with the counts it had received, and the gap in between is answered by the limits'
// onStoreFailure, as for any outage.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { parseConfig } from "../../src/config/loader.js";
import type { LimitCheck } from "../../src/limiter/policy.js";
import { createLogger } from "../../src/observability/logger.js";
import { createLimiterStore } from "../../src/stores/createStore.js";
import type { RateLimitStore } from "../../src/stores/store.js";
import { pollUntil } from "../support/poll.js";
import { queryRedis, startRedisServer, type RedisServer } from "../support/redisServer.js";
import { freePort } from "../support/freePort.js";

const MASTER_GROUP = "sluice-test";
const CHECK: LimitCheck = { key: "quota|c=sentinel", policy: { name: "quota", algorithm: "fixed-window", limit: 3, windowMs: 3_600_000, onStoreFailure: "closed" }, cost: 1 };

let primary: RedisServer;
let replica: RedisServer;
let sentinel: ChildProcess;
let sentinelPort: number;
let dir: string;
let store: RateLimitStore;

before(async () => {
  primary = await startRedisServer();
  replica = await startRedisServer({ extraArgs: ["--replicaof", "127.0.0.1", String(primary.port)] });
  await pollUntil(async () => (await delay(100), queryRedis(replica.port, ["INFO", "replication"]).catch(() => "")), (info) => info?.includes("master_link_status:up") === true, 10_000);
  dir = await mkdtemp(join(tmpdir(), "sluice-sentinel-"));
  sentinelPort = await freePort();
  // Sentinel rewrites its config file, so it gets one of its own.
  const conf = join(dir, "sentinel.conf");
  await writeFile(conf, [
    `port ${sentinelPort}`,
    "bind 127.0.0.1",
    `dir ${dir}`,
    `sentinel monitor ${MASTER_GROUP} 127.0.0.1 ${primary.port} 1`,
    `sentinel down-after-milliseconds ${MASTER_GROUP} 1000`,
    `sentinel failover-timeout ${MASTER_GROUP} 5000`,
  ].join("\n") + "\n");
  sentinel = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
  await pollUntil(async () => (await delay(100), queryRedis(sentinelPort, ["PING"]).catch(() => null)), (reply) => reply === "PONG", 10_000);
  const config = parseConfig(`limiter: { sentinel: ${MASTER_GROUP}, keyPrefix: "sentinel-test:", timeout: 1s }`);
  store = await createLimiterStore({ limiter: config.limiter, redisUrl: `redis://127.0.0.1:${sentinelPort}`, logger: createLogger("silent") });
  assert.equal(await store.ready?.(), true);
});

after(async () => {
  await store?.close();
  sentinel?.kill("SIGKILL");
  if (sentinel !== undefined && sentinel.exitCode === null) await once(sentinel, "exit");
  await Promise.all([primary?.close(), replica?.close()]);
  await rm(dir, { recursive: true, force: true });
});

async function consume(): Promise<{ allowed: boolean; failed: boolean }> {
  const verdict = await store.consume([CHECK]);
  return { allowed: verdict.allowed, failed: verdict.via === "store-failure" };
}

describe("limits in Redis behind Sentinel", () => {
  it("decides on the primary that Sentinel names", async () => {
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push(await consume());
    assert.deepEqual(answers, [{ allowed: true, failed: false }, { allowed: true, failed: false }]);
    assert.equal(await queryRedis(primary.port, ["DBSIZE"]), "1");
  });

  it("follows a failover to the promoted replica, which kept the replicated counts", async () => {
    // Replicated before the switch: what asynchronous replication had not sent would be lost.
    assert.equal(await queryRedis(primary.port, ["WAIT", "1", "2000"], 3_000), "1");
    // Refused ("NOGOODSLAVE") until Sentinel has learnt of the replica from the primary's INFO, every 10 s.
    const failover = await pollUntil(async () => (await delay(200), queryRedis(sentinelPort, ["SENTINEL", "FAILOVER", MASTER_GROUP]).catch((error: Error) => error.message)), (reply) => reply === "OK", 20_000);
    assert.equal(failover, "OK");
    await pollUntil(async () => (await delay(100), queryRedis(replica.port, ["INFO", "replication"]).catch(() => "")), (info) => info?.includes("role:master") === true, 15_000);

    const third = await pollUntil(async () => (await delay(50), consume()), (answer) => !answer.failed, 15_000);
    assert.deepEqual(third, { allowed: true, failed: false });
    assert.deepEqual(await consume(), { allowed: false, failed: false });
  });
});

