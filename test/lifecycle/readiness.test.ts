// What readiness weighs. A service whose every target is out (failed its health checks, or
// ejected by its circuit breaker) takes the instance out of rotation, as the balancer sees it and
// without any request sent to check: readiness reads the health checks' state. A Redis outage
// takes an instance out only when a limit is set to fail closed (limits that fail open or local
// keep serving, by the operator's choice), and it comes back by itself when Redis does, with no
// request in between; an unreachable accounts database takes it out, on both engines, and says why.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { parseConfig } from "../../src/config/loader.js";
import { Readiness } from "../../src/lifecycle/readiness.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { openDatabase } from "../../src/db/openDatabase.js";
import { TEST_ENGINES } from "../support/databases.js";
import { pollUntil } from "../support/poll.js";
import { postgresAdmin } from "../support/postgres.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { startRedisServer, type RedisServer } from "../support/redisServer.js";
import { closeRouteTable, compileRouteTable, type RouteTable } from "../../src/gateway/routeTable.js";

interface ReadyBody {
  readonly status: string;
  readonly reasons?: readonly string[];
  readonly limiterStore?: string;
}

const ADMIN_TOKEN = "readiness-admin-token";

/** /readyz with its details (the admin token's). */
async function readyz(sluice: RunningSluice): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(`${sluice.url}/readyz`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

/** Asks until the answer has `status`, over the seconds a reconnect may take. */
const readyzUntil = (sluice: RunningSluice, status: number) => pollUntil(async () => (await delay(50), readyz(sluice)), (r) => r.status === status, 10_000);

const yaml = (onStoreFailure: string) => `
server: { host: 127.0.0.1, port: 0 }
limiter: { keyPrefix: "readiness-test:" }
limits:
  lenient: { limit: 100, window: 1m }
  guarded: { limit: 100, window: 1m, onStoreFailure: ${onStoreFailure} }
defaults: { limits: [lenient, guarded] }
`;

describe("readiness while Redis comes and goes", () => {
  let redis: RedisServer;
  let sluice: RunningSluice;
  before(async () => {
    redis = await startRedisServer();
    sluice = await startSluice({ config: parseConfig(yaml("local")), redisUrl: redis.url, logger: createLogger("silent"), adminToken: ADMIN_TOKEN });
  });
  after(async () => {
    await sluice?.close();
    await redis?.close();
  });

  it("is ready on a healthy Redis and says the store is reachable", async () => {
    const { status, body } = await readyz(sluice);
    assert.equal(status, 200);
    assert.equal(body.limiterStore, "reachable");
  });

  it("stays ready without Redis while every limit fails open or local, and says the store is unreachable", async () => {
    await redis.stop();
    const { status, body } = await readyz(sluice);
    assert.equal(status, 200);
    assert.equal(body.limiterStore, "unreachable");
  });

  it("is not ready without Redis once a limit fails closed, and names that limit", async () => {
    await sluice.reload(parseConfig(yaml("closed")));
    const { status, body } = await readyz(sluice);
    assert.equal(status, 503);
    assert.deepEqual(body.reasons, ['the limiter store is unreachable and "guarded" fails closed (onStoreFailure: closed)']);
  });

  it("is ready again once Redis is back, with no request in between", async () => {
    await redis.start();
    const { status, body } = await readyzUntil(sluice, 200);
    assert.equal(status, 200);
    assert.equal(body.limiterStore, "reachable");
  });
});

describe("readiness and the accounts database", () => {
  const store = new MemoryStore({ sweepIntervalMs: 0 });
  const failsClosed = () => [];

  for (const engine of TEST_ENGINES) {
    it(`${engine.name}: is ready while the database answers, and not while it cannot`, async () => {
      const location = await engine.fresh();
      const db = await openDatabase(location);
      const readiness = new Readiness({ store, database: db, failsClosed, timeoutMs: 1_000 });
      assert.deepEqual(await readiness.check(), { ready: true, status: "ready", reasons: [], services: {}, limiterStore: "reachable", database: "reachable" });

      if (location.url === undefined) {
        await db.close();
      } else {
        // The server refuses the database's connections, as when it is down for this instance.
        await postgresAdmin(`alter database ${new URL(location.url).pathname.slice(1)} allow_connections false`);
        await postgresAdmin(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${new URL(location.url).pathname.slice(1)}'`);
      }
      const report = await readiness.check();
      assert.equal(report.ready, false);
      assert.equal(report.database, "unreachable");
      assert.deepEqual(report.reasons, ["the accounts database is unreachable: API keys kept in it cannot be checked"]);

      if (location.url !== undefined) {
        await postgresAdmin(`alter database ${new URL(location.url).pathname.slice(1)} allow_connections true`);
        const back = await pollUntil(async () => (await delay(50), readiness.check()), (r) => r.ready, 10_000);
        assert.equal(back.database, "reachable");
        await db.close();
      }
    });
  }
});

describe("readiness and the upstreams' health", () => {
  let upstream: RecordingUpstream;
  let table: RouteTable;
  let healthy = true;
  before(async () => {
    upstream = await startRecordingUpstream((_request, res) => res.writeHead(healthy ? 200 : 503).end());
    // Two services on one upstream: "checked" has active health checks (one failure takes a target
    // out; the interval is long, so only this test's rounds run), "unchecked" has none.
    table = compileRouteTable(parseConfig(`
services:
  checked: { upstream: "${upstream.url}/checked", healthCheck: { path: /health, interval: 1h, unhealthyThreshold: 1, healthyThreshold: 1 } }
  unchecked: { upstream: "${upstream.url}/unchecked", circuitBreaker: { failures: 1, backoff: 1h } }
`), new Map());
    await table.get("checked")!.healthCheck!.checkAll();
  });
  after(async () => {
    await closeRouteTable(table);
    await upstream.close();
  });
  const readiness = () => new Readiness({ store: new MemoryStore({ sweepIntervalMs: 0 }), services: () => table.values(), failsClosed: () => [] });

  it("sends nothing to any upstream, however often it is asked", async () => {
    const before = upstream.received.length;
    for (let i = 0; i < 50; i++) assert.equal((await readiness().check()).ready, true);
    assert.equal(upstream.received.length, before);
  });

  it("takes the instance out once every target of a service fails its health check, and back when it passes", async () => {
    const checked = table.get("checked")!;
    healthy = false;
    await checked.healthCheck!.checkAll();
    assert.deepEqual(await readiness().check(), {
      ready: false,
      status: "not ready",
      reasons: ['service "checked" is unreachable: every target failed its health check or was ejected'],
      services: { checked: "unreachable", unchecked: "reachable" },
      limiterStore: "reachable",
      database: undefined,
    });
    healthy = true;
    await checked.healthCheck!.checkAll();
    assert.equal((await readiness().check()).ready, true);
  });

  it("takes the instance out while a service's only target is ejected by its circuit breaker", async () => {
    table.get("unchecked")!.targets[0]!.breaker.failed();
    const report = await readiness().check();
    assert.deepEqual(report.services, { checked: "reachable", unchecked: "unreachable" });
    assert.equal(report.ready, false);
  });
});
