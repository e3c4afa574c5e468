// The Redis store against a real Redis: it meets the store contract for every algorithm, gives
// the memory store's decisions on the same histories (one implementation in TypeScript, its
// mirror in Lua), takes time from the server, survives a flushed script cache, and stays exact
// under concurrent callers.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Redis } from "ioredis";
import { ALGORITHM_NAMES } from "../../src/limiter/algorithms/index.js";
import type { LimitCheck, Policy } from "../../src/limiter/policy.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisClient, lateReplyWindow } from "../../src/stores/redis/client.js";
import { DECIDE_SCRIPT_SHA } from "../../src/stores/redis/decideScript.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { StoreTimeout } from "../../src/stores/store.js";
import { testRedisClient, uniquePrefix } from "../support/redis.js";
import { comparable, randomHistory, randomPolicy } from "../support/storeHistories.js";
import { queryRedis, startRedisServer, waitUntil, type RedisServer } from "../support/redisServer.js";
import { ALGORITHM_CASES } from "../support/algorithmCases.js";
import { runStoreSuite } from "./storeSuite.js";

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

runStoreSuite({ name: "RedisStore", newStore: (clock) => new RedisStore({ client: testRedisClient(), keyPrefix: uniquePrefix(), clock }) });

describe("RedisStore's refunds", () => {
  // Every algorithm's policy of 3 units, over a minute.
  const policies: Policy[] = ALGORITHM_NAMES.map((name) => ({ ...ALGORITHM_CASES[name].policy, windowMs: 60_000 }));
  for (const policy of policies) {
    it(`${policy.algorithm}: gives back a charge, leaving the state as if the decision had not been made`, async () => {
      let now = 1_700_000_000_000;
      const clock = () => now;
      const redis = redisStore({ clock });
      const memory = new MemoryStore({ clock, sweepIntervalMs: 0 });
      const check = (i: number): LimitCheck => ({ key: `${policy.name}|c=alice`, policy, cost: 1, lease: `r${i}` });
      for (const i of [1, 2]) {
        await redis.consume([check(i)]);
        memory.consume([check(i)]);
        now += 7;
      }
      const third = await redis.consume([check(3)]);
      assert.equal(third.allowed, true);
      await redis.refund([check(3)], third.now);
      const peek = { ...check(4), cost: 0 };
      assert.deepEqual(comparable(await redis.consume([peek])), comparable(memory.consume([peek])));
      await memory.close();
    });
  }

  // A late reply's refund comes after other decisions. Had one of them found the bucket full,
  // refilled to its capacity, part of the charge would already be gone: giving it back in full
  // would admit past the limit. The store measured against is the memory store that never saw
  // the late decision.
  for (const policy of policies.filter((p) => p.algorithm === "gcra" || p.algorithm === "token-bucket")) {
    it(`${policy.algorithm}: gives back no more than time has left of the charge`, async () => {
      let now = 1_700_000_000_000;
      const clock = () => now;
      const redis = redisStore({ clock });
      const memory = new MemoryStore({ clock, sweepIntervalMs: 0 });
      const fast: Policy = { ...policy, windowMs: 300 }; // 3 per 300 ms: a unit every 100 ms
      const check: LimitCheck = { key: `${fast.name}|c=carol`, policy: fast, cost: 1 };
      const late = await redis.consume([check]);
      assert.equal(late.allowed, true, "the charge its caller never heard of");
      now += 200;
      for (let i = 0; i < 3; i++) {
        assert.equal((await redis.consume([check])).allowed, true);
        assert.equal(memory.consume([check]).allowed, true);
      }
      now += 1;
      await redis.refund([check], late.now);
      assert.equal((await redis.consume([check])).allowed, false, "Redis refuses, as the memory store does");
      assert.equal(memory.consume([check]).allowed, false);
      await memory.close();
    });
  }

  it("gives back nothing once the window that counted the charge has ended", async () => {
    let now = 1_700_000_000_000;
    const redis = redisStore({ clock: () => now });
    const policy: Policy = { name: "f", algorithm: "fixed-window", limit: 3, windowMs: 1_000 };
    const check: LimitCheck = { key: "f|c=bob", policy, cost: 1 };
    const charged = await redis.consume([check]);
    now += 1_500;
    await redis.consume([check]);
    await redis.refund([check], charged.now);
    assert.equal((await redis.consume([{ ...check, cost: 0 }])).decisions[0]!.remaining, 2, "the new window keeps its own charge");
  });
});

describe("RedisStore's deadline: it measures Redis, not this process", () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer();
  });
  after(() => server.close());

  const TIMEOUT_MS = 20;
  const PAUSE_MS = 1_000;
  const check: LimitCheck = { key: "p|c=alice", policy: { name: "p", algorithm: "fixed-window", limit: 10, windowMs: 60_000 }, cost: 1 };
  /** Keeps the event loop busy, as a burst of requests or a long synchronous task does. */
  const block = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
  };
  async function deadlineStore() {
    const store = new RedisStore({ client: createRedisClient(server.url, { commandTimeoutMs: lateReplyWindow(TIMEOUT_MS) }).on("error", () => undefined), keyPrefix: uniquePrefix(), timeoutMs: TIMEOUT_MS });
    stores.push(store);
    assert.equal(await store.ready(), true);
    return store;
  }

  it("answers a decision asked before the event loop is blocked for 5 deadlines: the call leaves after the block", async () => {
    const store = await deadlineStore();
    const verdict = store.consume([check]);
    block(5 * TIMEOUT_MS);
    assert.equal((await verdict).allowed, true);
  });

  it("answers a decision whose reply arrived while the event loop was blocked past its deadline", async () => {
    const store = await deadlineStore();
    const verdict = store.consume([check]);
    await new Promise((resolve) => setImmediate(resolve)); // the call has been written
    block(5 * TIMEOUT_MS);
    assert.equal((await verdict).allowed, true, "the reply was read before the deadline was judged");
  });

  it("rejects with StoreTimeout when Redis does not answer, and tells what the call did once Redis ran it", async () => {
    const store = await deadlineStore();
    // Frozen for far longer than the deadline, so a busy test machine cannot blur the two.
    assert.equal(await queryRedis(server.port, ["CLIENT", "PAUSE", String(PAUSE_MS), "ALL"]), "OK");
    const started = performance.now();
    const error = await store.consume([check]).then(() => undefined, (e: unknown) => e);
    const waited = performance.now() - started;
    assert.ok(error instanceof StoreTimeout, `rejected with ${String(error)}`);
    assert.ok(waited < PAUSE_MS, `answered after ${waited.toFixed(0)} ms, before Redis woke up`);
    const late = await error.late;
    assert.equal(late?.verdict.allowed, true, "the script ran when Redis woke up");
    assert.deepEqual(late.charged, [check]);
  });

  it("probes with a call of no decisions, under the same deadline", async () => {
    const store = await deadlineStore();
    await store.probe();
    assert.equal(await queryRedis(server.port, ["CLIENT", "PAUSE", String(PAUSE_MS), "ALL"]), "OK");
    await assert.rejects(store.probe(), StoreTimeout);
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
