// When Redis cannot answer, each limit does what its onStoreFailure says — admit (open), refuse
// with 503 (closed), or count in process (local) — and no decision waits past the deadline.
// A denial is remembered locally until it ends, so a flood from one key costs Redis nothing.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { FailureMode, LimitCheck, Policy } from "../../src/limiter/policy.js";
import { FailoverStore } from "../../src/stores/failoverStore.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisClient } from "../../src/stores/redis/client.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { capturingLogger } from "../support/logCapture.js";
import { ManualClock } from "../support/manualClock.js";
import { TEST_REDIS_URL, testRedisClient, uniquePrefix } from "../support/redis.js";

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function failoverOn(url: string, clock = new ManualClock()) {
  const { logger, lines } = capturingLogger();
  const prefix = uniquePrefix();
  const store = new FailoverStore({
    primary: new RedisStore({ client: createRedisClient(url, { commandTimeoutMs: 50 }).on("error", () => undefined), keyPrefix: prefix }),
    fallback: new MemoryStore({ clock: clock.read, sweepIntervalMs: 0 }),
    timeoutMs: 50,
    logger,
    clock: clock.read,
  });
  closers.push(() => store.close());
  if (url === TEST_REDIS_URL) await store.ready();
  return { store, clock, lines, prefix };
}

const policy = (onStoreFailure: FailureMode): Policy => ({ name: onStoreFailure, algorithm: "fixed-window", limit: 2, windowMs: 60_000, onStoreFailure });
const check = (mode: FailureMode): LimitCheck => ({ key: `${mode}|c=alice`, policy: policy(mode), cost: 1 });

describe("FailoverStore with Redis unreachable (nothing listens on the port)", () => {
  const unreachable = "redis://127.0.0.1:1";

  it("admits an open limit, flagging the verdict", async () => {
    const { store } = await failoverOn(unreachable);
    const verdict = await store.consume([check("open")]);
    assert.equal(verdict.allowed, true);
    assert.equal(verdict.via, "store-failure");
  });

  it("refuses a closed limit as unavailable", async () => {
    const { store } = await failoverOn(unreachable);
    const verdict = await store.consume([check("open"), check("closed")]);
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.decisions[1]?.reason, "store-unavailable");
  });

  it("counts a local limit in process, enforcing it there", async () => {
    const { store } = await failoverOn(unreachable);
    const results = [];
    for (let i = 0; i < 3; i++) results.push((await store.consume([check("local")])).allowed);
    assert.deepEqual(results, [true, true, false]);
  });

  it("logs the outage once, not once per decision", async () => {
    const { store, lines } = await failoverOn(unreachable);
    for (let i = 0; i < 5; i++) await store.consume([check("open")]);
    assert.equal(lines().filter((l) => String(l["msg"]).includes("is failing")).length, 1);
  });
});

describe("FailoverStore with Redis up", () => {
  it("remembers a denial and answers it locally until it ends", async () => {
    const { store, clock, prefix } = await failoverOn(TEST_REDIS_URL);
    const admin = testRedisClient();
    closers.push(() => admin.quit().then(() => undefined));
    const c = check("open");
    await store.consume([c]);
    await store.consume([c]);
    const denied = await store.consume([c]);
    assert.equal(denied.allowed, false);
    assert.equal(denied.via, undefined, "the first denial comes from Redis");

    // Redis forgets the counter; the cached denial still holds, so Redis was not asked.
    await admin.del(`${prefix}{c=alice}open:f`);
    const cached = await store.consume([c]);
    assert.equal(cached.allowed, false);
    assert.equal(cached.via, "over-limit-cache");

    clock.advance(denied.decisions[0]!.retryAfterMs!);
    const afterwards = await store.consume([c]);
    assert.equal(afterwards.allowed, true, "once the denial ends, Redis decides again");
  });

});
