// /readyz beyond the upstreams: a Redis outage takes an instance out of rotation only when a limit
// is set to fail closed (limits that fail open or local keep serving, by the operator's choice),
// and it comes back by itself when Redis does, with no request in between; an unreachable accounts
// database takes it out, on both engines, and says why.
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
import { startRedisServer, type RedisServer } from "../support/redisServer.js";

interface ReadyBody {
  readonly status: string;
  readonly reasons?: readonly string[];
  readonly limiterStore?: string;
}

async function readyz(sluice: RunningSluice): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(`${sluice.url}/readyz`);
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
    sluice = await startSluice({ config: parseConfig(yaml("local")), redisUrl: redis.url, logger: createLogger("silent") });
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
      assert.deepEqual(await readiness.check(), { ready: true, reasons: [], limiterStore: "reachable", database: "reachable" });

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
