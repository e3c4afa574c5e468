// The Redis store against a real Redis: it gives the memory store's decisions on the same
// histories (one implementation in TypeScript, its mirror in Lua), takes time from the server,
// survives a flushed script cache, and stays exact under concurrent callers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Redis } from "ioredis";
import type { LimitCheck } from "../../src/limiter/policy.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisClient } from "../../src/stores/redis/client.js";
import { DECIDE_SCRIPT_SHA } from "../../src/stores/redis/decideScript.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { testRedisClient, uniquePrefix } from "../support/redis.js";
import { comparable, randomHistory, randomPolicy } from "../support/storeHistories.js";
import { startRedisServer, waitUntil, type RedisServer } from "../support/redisServer.js";

const admin = testRedisClient();
const stores: RedisStore[] = [];
function redisStore(options: { clock?: () => number; batch?: boolean } = {}): RedisStore {
  const store = new RedisStore({ client: testRedisClient(), keyPrefix: uniquePrefix(), ...options });
  stores.push(store);
  return store;
}
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await admin.quit();
});

const history = randomHistory(40);

describe("RedisStore", () => {
  it("decides exactly as the memory store on random histories of two limits", async () => {
    await fc.assert(fc.asyncProperty(randomPolicy, randomPolicy, history, async (first, second, steps) => {
      let now = 1_700_000_000_000;
      const clock = () => now;
      const memory = new MemoryStore({ clock, sweepIntervalMs: 0 });
      const redis = redisStore({ clock });
      const policies = [first, { ...second, name: `${second.name}-2` }];
      for (const [i, { gap, costs }] of steps.entries()) {
        now += gap;
        const checks: LimitCheck[] = policies.map((p, j) => ({ key: `${p.name}|c=alice`, policy: p, cost: costs[j]!, lease: `lease-${i}` }));
        assert.deepEqual(comparable(await redis.consume(checks)), comparable(memory.consume(checks)), `step ${i}`);
      }
      await memory.close();
    }), { numRuns: 60 });
  });

  it("takes the time from the Redis server when no clock is injected", async () => {
    const store = redisStore();
    const before = Date.now();
    const verdict = await store.consume([{ key: "p|x", policy: { name: "p", algorithm: "gcra", limit: 1, windowMs: 1000 }, cost: 1 }]);
    assert.ok(Math.abs(verdict.now - before) < 5_000, "the server's clock, in epoch ms");
  });

  it("reloads its script when Redis has forgotten it (NOSCRIPT)", async () => {
    const store = redisStore();
    const check = { key: "p|x", policy: { name: "p", algorithm: "fixed-window", limit: 2, windowMs: 60_000 }, cost: 1 } as const;
    await store.consume([check]);
    await admin.script("FLUSH");
    const verdict = await store.consume([check]);
    assert.equal(verdict.decisions[0]?.remaining, 0, "the state survived; only the script was reloaded");
  });

  for (const batch of [true, false]) {
    it(`admits exactly the limit to 200 concurrent callers on one key (batching ${batch ? "on" : "off"})`, async () => {
      const store = redisStore({ batch });
      const check = { key: "p|hot", policy: { name: "p", algorithm: "sliding-window-log", limit: 37, windowMs: 60_000 }, cost: 1 } as const;
      const verdicts = await Promise.all(Array.from({ length: 200 }, () => store.consume([check])));
      assert.equal(verdicts.filter((v) => v.allowed).length, 37);
    });
  }

  it("gives a concurrency lease back on release", async () => {
    const store = redisStore();
    const policy = { name: "inflight", algorithm: "concurrency", limit: 1, windowMs: 60_000 } as const;
    assert.equal((await store.consume([{ key: "inflight|a", policy, cost: 1, lease: "r1" }])).allowed, true);
    assert.equal((await store.consume([{ key: "inflight|a", policy, cost: 1, lease: "r2" }])).allowed, false);
    await store.release([{ key: "inflight|a", policy, lease: "r1", units: 1 }]);
    assert.equal((await store.consume([{ key: "inflight|a", policy, cost: 1, lease: "r3" }])).allowed, true);
  });

  it("puts every limit on one subject under one hash tag, and forgets them all on reset", async () => {
    const store = redisStore();
    const p = { name: "daily", algorithm: "fixed-window", limit: 1, windowMs: 86_400_000 } as const;
    assert.match(store.redisKey({ key: "daily|c=alice", policy: p, cost: 1 }), /^sluice-test:[^{]+\{c=alice\}daily:f$/);
    await store.consume([{ key: "daily|c=alice", policy: p, cost: 1 }]);
    await store.reset("daily|c=alice");
    assert.equal((await store.consume([{ key: "daily|c=alice", policy: p, cost: 1 }])).allowed, true);
  });
});

describe("RedisStore's script across a Redis restart", () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(() => server.close());

  const scriptCached = async (): Promise<boolean> => {
    const probe = new Redis(server.url, { maxRetriesPerRequest: 0, lazyConnect: true });
    try {
      await probe.connect();
      const [exists] = (await probe.script("EXISTS", DECIDE_SCRIPT_SHA)) as number[];
      return exists === 1;
    } finally {
      probe.disconnect();
    }
  };

  it("is loaded on every connection, so no decision pays for a NOSCRIPT round trip", async () => {
    const store = new RedisStore({ client: createRedisClient(server.url, { commandTimeoutMs: 500 }).on("error", () => undefined), keyPrefix: uniquePrefix() });
    stores.push(store);
    assert.equal(await store.ready(), true);
    assert.equal(await scriptCached(), true, "loaded before the first decision");

    await server.stop();
    await server.start(); // a fresh server: its script cache is empty
    assert.equal(await waitUntil(scriptCached, 5_000), "ready", "loaded again once the store reconnected, with no decision asked");
  });
});
