// The Redis store on a private three-node Redis Cluster. Limits on one subject share a slot and
// are decided by one script, exactly as the memory store decides them; a decision over subjects
// on different nodes is split into one atomic part per slot, admitted only if every part admits
// (a refused request may have been charged by a part that admitted, and is never over-admitted).
// Time comes from the nodes, a flushed script cache is reloaded on every node, and concurrent
// callers on one key get exactly the limit. It meets the store contract, as every store does.
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Cluster } from "ioredis";
import { parseConfig } from "../../src/config/loader.js";
import type { Verdict } from "../../src/limiter/decision.js";
import type { LimitCheck, Policy } from "../../src/limiter/policy.js";
import { createLogger } from "../../src/observability/logger.js";
import { createLimiterStore } from "../../src/stores/createStore.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { createRedisCluster, parseClusterSeeds } from "../../src/stores/redis/client.js";
import { DECIDE_SCRIPT_SHA } from "../../src/stores/redis/decideScript.js";
import { hashedPart, RedisStore } from "../../src/stores/redis/redisStore.js";
import { uniquePrefix } from "../support/redis.js";
import { startRedisCluster, type RedisCluster } from "../support/redisCluster.js";
import { queryRedis } from "../support/redisServer.js";
import { comparable, randomHistory, randomPolicy } from "../support/storeHistories.js";
import { runStoreSuite } from "./storeSuite.js";

let cluster: RedisCluster;
let seeds: string;
/** Looks at the cluster from outside the store: slots, node clocks. */
let admin: Cluster;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  cluster = await startRedisCluster();
  seeds = cluster.nodes.map((node) => `redis://${node.host}:${node.port}`).join(",");
  admin = new Cluster([...cluster.nodes], { enableOfflineQueue: true, redisOptions: { maxRetriesPerRequest: 1 } });
  admin.on("error", () => undefined);
  await new Promise((resolve) => admin.once("ready", resolve));
});
after(async () => {
  await Promise.all(closers.map((close) => close()));
  admin.disconnect();
  await cluster.close();
});

async function clusterStore(options: { clock?: () => number; batch?: boolean; seeds?: string } = {}): Promise<RedisStore> {
  const client = createRedisCluster(options.seeds ?? seeds, { commandTimeoutMs: 2_000 }).on("error", () => undefined);
  const store = new RedisStore({ client, keyPrefix: uniquePrefix(), ...(options.clock && { clock: options.clock }), ...(options.batch !== undefined && { batch: options.batch }) });
  closers.push(() => store.close());
  assert.equal(await store.ready(5_000), true, "the cluster client is ready");
  return store;
}

/** The port of the master that serves `key`, from the slot map. */
async function nodeOf(key: string): Promise<number> {
  const slot = Number(await admin.cluster("KEYSLOT", key));
  return Number(admin.slots[slot]![0]!.split(":").pop());
}

/** Subjects `c=user<n>` whose keys land on `count` different nodes, one each. */
async function subjectsOnDistinctNodes(count: number): Promise<string[]> {
  const byNode = new Map<number, string>();
  for (let n = 0; byNode.size < count; n++) {
    const subject = `c=user${n}`;
    const port = await nodeOf(`{${subject}}`);
    if (!byNode.has(port)) byNode.set(port, subject);
  }
  return [...byNode.values()];
}

/** Asks every node directly (not through ioredis) which one holds the key. */
async function holderOf(key: string): Promise<number[]> {
  const replies = await Promise.all(cluster.nodes.map((node) => queryRedis(node.port, ["EXISTS", key]).catch(() => "moved")));
  return cluster.nodes.filter((_, i) => replies[i] === "1").map((node) => node.port);
}

const history = randomHistory(30);

const fixedWindow = (name: string, limit: number): Policy => ({ name, algorithm: "fixed-window", limit, windowMs: 60_000 });

describe("RedisStore on a three-node Redis Cluster", () => {
  it("decides two limits on one subject exactly as the memory store, on whichever node the subject lives", async () => {
    let now = 0;
    const store = await clusterStore({ clock: () => now });
    await fc.assert(fc.asyncProperty(randomPolicy, randomPolicy, history, fc.nat(1_000), async (first, second, steps, user) => {
      now = 1_700_000_000_000;
      const memory = new MemoryStore({ clock: () => now, sweepIntervalMs: 0 });
      const policies = [first, { ...second, name: `${second.name}-2` }];
      const subject = `c=${user}-${Math.random()}`;
      for (const [i, { gap, costs }] of steps.entries()) {
        now += gap;
        const checks: LimitCheck[] = policies.map((p, j) => ({ key: `${p.name}|${subject}`, policy: p, cost: costs[j]!, lease: `lease-${i}` }));
        assert.deepEqual(comparable(await store.consume(checks)), comparable(memory.consume(checks)), `step ${i}`);
      }
      await memory.close();
    }), { numRuns: 25 });
  });

  it("decides limits on subjects of different nodes as one atomic part per node, admitted if all admit", async () => {
    const subjects = await subjectsOnDistinctNodes(2);
    let now = 1_700_000_000_000;
    const store = await clusterStore({ clock: () => now });
    // The model: the memory store decides each subject's limit on its own; a refused request keeps
    // the charge of a part that admitted, except concurrency leases, which are given back.
    const memory = new MemoryStore({ clock: () => now, sweepIntervalMs: 0 });
    await fc.assert(fc.asyncProperty(randomPolicy, randomPolicy, history, async (first, second, steps) => {
      const run = Math.random();
      const policies = [{ ...first, name: `${first.name}-${run}` }, { ...second, name: `${second.name}-${run}-2` }];
      for (const [i, { gap, costs }] of steps.entries()) {
        now += gap;
        const checks: LimitCheck[] = policies.map((p, j) => ({ key: `${p.name}|${subjects[j]}`, policy: p, cost: costs[j]!, lease: `lease-${i}` }));
        const parts = checks.map((check) => memory.consume([check]));
        const allowed = parts.every((part) => part.allowed);
        checks.forEach((check, j) => {
          const charged = !allowed && parts[j]!.allowed && parts[j]!.decisions[0]!.allowed;
          if (charged && check.policy.algorithm === "concurrency" && check.cost > 0) memory.release([{ key: check.key, policy: check.policy, lease: check.lease!, units: check.cost }]);
        });
        const expected: Verdict = { allowed, decisions: parts.flatMap((part) => part.decisions), now };
        assert.deepEqual(comparable(await store.consume(checks)), comparable(expected), `step ${i}`);
      }
    }), { numRuns: 20 });
    await memory.close();
  });

  it("keeps each subject's keys on its own node: a refused request may be charged by the other, never over-admitted", async () => {
    const [alice, address] = await subjectsOnDistinctNodes(2);
    const store = await clusterStore();
    const perConsumer = fixedWindow("per-consumer", 3);
    const perIp = fixedWindow("per-ip", 2);
    const request = (consumer: string, ip: string) => store.consume([
      { key: `per-consumer|${consumer}`, policy: perConsumer, cost: 1 },
      { key: `per-ip|${ip}`, policy: perIp, cost: 1 },
    ]);

    assert.equal((await request(alice!, address!)).allowed, true);
    assert.equal((await request(alice!, address!)).allowed, true);
    const consumerKey = store.redisKey({ key: `per-consumer|${alice}`, policy: perConsumer, cost: 1 });
    const ipKey = store.redisKey({ key: `per-ip|${address}`, policy: perIp, cost: 1 });
    const [consumerNode, ipNode] = [await holderOf(consumerKey), await holderOf(ipKey)];
    assert.equal(consumerNode.length, 1);
    assert.equal(ipNode.length, 1);
    assert.notEqual(consumerNode[0], ipNode[0], "the two subjects' counters live on different nodes");

    const third = await request(alice!, address!);
    assert.equal(third.allowed, false, "the address has had its 2");
    assert.deepEqual(third.decisions.map((d) => [d.allowed, d.remaining]), [[true, 0], [false, 0]], "the consumer's part admitted, and was charged");
    const elsewhere = await request(alice!, "ip=10.9.9.9");
    assert.equal(elsewhere.allowed, false, "alice's third unit went to the refused request");
    assert.equal(elsewhere.decisions[0]!.allowed, false);
  });

  it("gives back the concurrency lease a refused request took on another node", async () => {
    const [alice, address] = await subjectsOnDistinctNodes(2);
    const store = await clusterStore();
    const inflight: Policy = { name: "inflight", algorithm: "concurrency", limit: 1, windowMs: 60_000 };
    const perIp = fixedWindow("per-ip", 1);
    const request = (lease: string, ip: string) => store.consume([
      { key: `inflight|${alice}`, policy: inflight, cost: 1, lease },
      { key: `per-ip|${ip}`, policy: perIp, cost: 1 },
    ]);

    assert.equal((await request("r1", address!)).allowed, true);
    await store.release([{ key: `inflight|${alice}`, policy: inflight, lease: "r1", units: 1 }]);
    const refused = await request("r2", address!);
    assert.equal(refused.allowed, false);
    assert.equal(refused.decisions[0]!.allowed, true, "the lease was taken ...");
    assert.equal((await request("r3", "ip=10.9.9.9")).allowed, true, "... and given back, so the next request gets it");
    assert.equal(await admin.zcard(store.redisKey({ key: `inflight|${alice}`, policy: inflight, cost: 1 })), 1, "only r3 holds a lease");
  });

  for (const batch of [true, false]) {
    it(`admits exactly 50 of 300 concurrent callers on one key (batching ${batch ? "on" : "off"})`, async () => {
      const store = await clusterStore({ batch });
      const check = { key: "p|c=hot", policy: { name: "p", algorithm: "sliding-window-log", limit: 50, windowMs: 60_000 }, cost: 1 } as const;
      const verdicts = await Promise.all(Array.from({ length: 300 }, () => store.consume([check])));
      assert.equal(verdicts.filter((v) => v.allowed).length, 50);
    });
  }

  it("never admits more than a limit allows to concurrent callers over three nodes", async () => {
    const subjects = await subjectsOnDistinctNodes(3);
    const store = await clusterStore();
    const policies = subjects.map((_, i) => fixedWindow(`p${i}`, 50));
    const checks = policies.map((p, i) => ({ key: `${p.name}|${subjects[i]}`, policy: p, cost: 1 }));
    // Half the callers count all three subjects, half only the first: the first's 50 are shared.
    const verdicts = await Promise.all(Array.from({ length: 300 }, (_, n) => store.consume(n % 2 === 0 ? checks : checks.slice(0, 1))));
    const admitted = verdicts.filter((v) => v.allowed).length;
    assert.ok(admitted > 0 && admitted <= 50, `admitted ${admitted}`);
    const counted = await Promise.all(checks.map((check) => admin.get(store.redisKey(check))));
    assert.equal(counted[0]!.split(" ")[1], "50", "the first subject's limit was spent, and not exceeded");
  });

  it("reloads its script on every node after SCRIPT FLUSH (NOSCRIPT)", async () => {
    const subjects = await subjectsOnDistinctNodes(3);
    const store = await clusterStore();
    const p = fixedWindow("p", 2);
    const checks = subjects.map((subject) => ({ key: `p|${subject}`, policy: p, cost: 1 }));
    assert.equal((await store.consume(checks)).allowed, true);
    for (const node of cluster.nodes) assert.equal(await queryRedis(node.port, ["SCRIPT", "FLUSH"]), "OK");
    const verdict = await store.consume(checks);
    assert.deepEqual(verdict.decisions.map((d) => d.remaining), [0, 0, 0], "the state survived; only the script was reloaded");
    const loaded = await Promise.all(admin.nodes("master").map((node) => node.script("EXISTS", DECIDE_SCRIPT_SHA)));
    assert.deepEqual(loaded, [[1], [1], [1]], "every node has the script again");
  });

  it("takes the time from the Redis servers when no clock is injected", async () => {
    const subjects = await subjectsOnDistinctNodes(3);
    const store = await clusterStore({ seeds: seeds.split(",")[0]! });
    const p: Policy = { name: "p", algorithm: "gcra", limit: 1, windowMs: 1_000 };
    const serverTimes = () => Promise.all(admin.nodes("master").map(async (node) => {
      const [seconds, micros] = await node.time();
      return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
    }));
    const before = Math.min(...(await serverTimes()));
    const verdict = await store.consume(subjects.map((subject) => ({ key: `p|${subject}`, policy: p, cost: 1 })));
    const after = Math.max(...(await serverTimes()));
    assert.equal(verdict.allowed, true, "a store given one seed found the other nodes");
    assert.ok(before <= verdict.now && verdict.now <= after, `${before} <= ${verdict.now} <= ${after}`);
  });
});

// Every test's limits count one subject, so each decision is one script on one node.
runStoreSuite({ name: "RedisStore on a Redis Cluster", newStore: (clock) => clusterStore({ clock }) });

describe("RedisStore on a Redis Cluster it cannot reach", () => {
  it("refuses a decision at once instead of holding it until the cluster answers", async () => {
    // A node that accepts connections and never replies, as one behind a dead network path.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    const store = new RedisStore({ client: createRedisCluster(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 2_000 }).on("error", () => undefined) });
    try {
      const started = Date.now();
      await assert.rejects(store.consume([{ key: "p|c=alice", policy: fixedWindow("p", 1), cost: 1 }]), /not connected/);
      assert.ok(Date.now() - started < 500, "rejected without waiting for the connection");
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe("hashedPart", () => {
  it("is what Redis Cluster hashes: the first non-empty {tag}, else the whole key", async () => {
    for (const key of ["sluice:{c=alice}daily:f", "a{b}c{d}", "a{}b{c}", "{}", "no-tag", "x{y", "sluice:{ip=10.0.0.1}p:g"]) {
      const tagged = hashedPart(key);
      assert.equal(await admin.cluster("KEYSLOT", key), await admin.cluster("KEYSLOT", tagged === key ? key : `{${tagged}}`), key);
    }
    assert.equal(hashedPart("a{b}c{d}"), "b");
    assert.equal(hashedPart("a{}b{c}"), "a{}b{c}");
  });
});

describe("createRedisCluster", () => {
  it("reads seeds, credentials and TLS from REDIS_URL, and refuses what a cluster cannot use", () => {
    assert.deepEqual(parseClusterSeeds("redis://:s%40cret@10.0.0.1:7000, redis://10.0.0.2"), {
      nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 6379 }], password: "s@cret", tls: false,
    });
    assert.equal(parseClusterSeeds("rediss://[::1]:7000").tls, true);
    assert.deepEqual(parseClusterSeeds("rediss://[::1]:7000").nodes, [{ host: "::1", port: 7000 }]);
    assert.throws(() => parseClusterSeeds("redis://10.0.0.1:7000/2"), /database 0 only/);
    assert.throws(() => parseClusterSeeds("redis://a:1,rediss://b:2"), /TLS on every node or on none/);
    assert.throws(() => parseClusterSeeds("10.0.0.1:7000"), /not a redis:\/\/host:port URL/);
    assert.throws(() => parseClusterSeeds("http://10.0.0.1:7000"), /redis:\/\/ or rediss:\/\//);
    assert.throws(() => parseClusterSeeds(" , "), /no Redis Cluster seed/);
  });

  it("is what Sluice uses when limiter.cluster is true", async () => {
    const store = await createLimiterStore({ limiter: parseConfig("limiter: { cluster: true, keyPrefix: 'sluice-test-wiring:' }").limiter, redisUrl: seeds, logger: createLogger("silent") });
    closers.push(() => store.close());
    assert.equal(await store.ready?.(), true);
    const p = fixedWindow("p", 1);
    assert.equal((await store.consume([{ key: `p|c=${Math.random()}`, policy: p, cost: 1 }])).allowed, true);
    await assert.rejects(() => createLimiterStore({ limiter: parseConfig("").limiter, redisUrl: seeds, logger: createLogger("silent") }), /limiter\.cluster: true/);
  });
});
