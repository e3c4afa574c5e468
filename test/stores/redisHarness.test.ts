// A smoke test of the private-Redis harness the fault and Cluster tests build on: a server that
// serves, goes down and comes back on the same port, and a three-node cluster that spreads keys
// over its nodes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cluster, Redis } from "ioredis";
import { startRedisCluster, type RedisCluster } from "../support/redisCluster.js";
import { queryRedis, startRedisServer, type RedisServer } from "../support/redisServer.js";

/** A client that fails fast instead of queueing or retrying, so a dead server shows at once. */
function failFastClient(url: string, errors: Error[] = []): Redis {
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  return client.on("error", (error: Error) => errors.push(error));
}

describe("startRedisServer", () => {
  let server: RedisServer;
  const clients: Redis[] = [];
  const connected = async (): Promise<Redis> => {
    const client = failFastClient(server.url);
    clients.push(client);
    await client.connect();
    return client;
  };

  before(async () => {
    server = await startRedisServer();
  });
  after(async () => {
    for (const client of clients) client.disconnect();
    await server.close();
  });

  it("serves on a private port", async () => {
    assert.notEqual(server.port, 6379);
    assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
    const client = await connected();
    assert.equal(await client.set("harness:key", "value"), "OK");
    assert.equal(await client.get("harness:key"), "value");
  });

  it("goes down on stop() and comes back on the same port on start()", async () => {
    const before = await connected();
    await server.stop();
    await assert.rejects(before.ping(), "the open connection is gone");
    const errors: Error[] = [];
    const refused = failFastClient(server.url, errors);
    clients.push(refused);
    // connect() rejects with "Connection is closed."; the cause arrives as an "error" event.
    await assert.rejects(refused.connect(), /Connection is closed/);
    assert.match(errors.map(String).join("\n"), /ECONNREFUSED/);

    await server.start();
    const after = await connected();
    assert.equal(await after.ping(), "PONG");
    assert.equal(await after.get("harness:key"), null, "nothing was kept on disk");
  });
});

describe("startRedisCluster", () => {
  let cluster: RedisCluster;
  let client: Cluster;

  before(async () => {
    cluster = await startRedisCluster();
    client = new Cluster([...cluster.nodes], {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: () => null,
      redisOptions: { maxRetriesPerRequest: 0 },
    });
    client.on("error", () => undefined);
    await client.connect();
  });
  after(async () => {
    client.disconnect();
    await cluster.close();
  });

  it("has three masters and spreads keys in different slots over them", async () => {
    assert.equal(cluster.nodes.length, 3);
    const keys = ["{a}x", "{b}x", "{c}x"];
    for (const key of keys) assert.equal(await client.set(key, `value of ${key}`), "OK");
    for (const key of keys) assert.equal(await client.get(key), `value of ${key}`);

    // Asked of each server, not of the client's picture of the cluster, which it may still be refreshing.
    const sizes = await Promise.all(cluster.nodes.map((node) => queryRedis(node.port, ["DBSIZE"])));
    assert.deepEqual(sizes, ["1", "1", "1"], "each master holds one of the keys");
  });
});
