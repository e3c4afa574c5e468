// One Redis, one truth: several Sluice instances answering POST /v1/ratelimit on one Redis admit
// exactly the limit between them under concurrent calls, and the service counts in the same store
// as the gateway of its process without the two ever sharing a counter. Behind the failover store,
// a call the over-limit cache refuses still gets each of its checks' results.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/observability/logger.js";
import { decisionBody } from "../../src/service/decisionRequest.js";
import { compilePolicyBook } from "../../src/service/descriptorPolicies.js";
import { RatelimitService } from "../../src/service/ratelimitService.js";
import { FailoverStore } from "../../src/stores/failoverStore.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";
import { RedisStore } from "../../src/stores/redis/redisStore.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { testRedisClient, uniquePrefix } from "../support/redis.js";
import { startServiceSluice, type ServiceSluice } from "./serviceSluice.js";

describe("several instances on one Redis", () => {
  const prefix = uniquePrefix();
  let instances: ServiceSluice[];
  before(async () => {
    // A generous deadline: the calls arrive at once on a shared machine, and a missed deadline fails closed.
    instances = await Promise.all([1, 2, 3].map(() => startServiceSluice("limiter: { timeout: 10s }", { backend: "redis", prefix })));
  });
  after(() => Promise.all(instances.map((s) => s.close())));

  for (const algorithm of ["gcra", "sliding-window-log", "fixed-window"] as const) {
    it(`admit exactly the limit between them under concurrent calls (${algorithm})`, async () => {
      const body = { identifier: `shared-${algorithm}`, limit: 40, duration: "1h", algorithm };
      const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => instances[i % 3]!.decide(body)));
      assert.equal(answers.filter((a) => a["allowed"] === true).length, 40);
      const remaining = answers.filter((a) => a["allowed"] === true).map((a) => a["remaining"] as number).sort((x, y) => x - y);
      assert.deepEqual(remaining, Array.from({ length: 40 }, (_, i) => i), "each admitted call saw its own count");
    });
  }
});

describe("the service beside the gateway in one process", () => {
  let upstream: RecordingUpstream;
  let sluice: ServiceSluice;
  before(async () => {
    upstream = await startRecordingUpstream();
    sluice = await startServiceSluice(`
limiter: { timeout: 10s }
limits:
  per-client: { limit: 2, window: 1h, by: [consumer] }
services:
  echo: { upstream: "${upstream.url}", openapi: false, limits: [per-client] }
consumers:
  demo: { keys: [secret-key] }
`, { backend: "redis" });
  });
  after(async () => {
    await sluice.close();
    await upstream.close();
  });

  it("counts in the gateway's Redis, under keys of its own", async () => {
    for (let i = 0; i < 3; i++) await fetch(`${sluice.url}/api/echo/x`, { headers: { "x-api-key": "secret-key" } }).then((r) => r.arrayBuffer());
    const service = await sluice.decide({ identifier: "c=demo", limit: 2, duration: "1h", namespace: "per-client" });
    assert.deepEqual([service["allowed"], service["remaining"]], [true, 1], "the gateway's spent limit is not the service's");
    const redis = testRedisClient();
    try {
      const keys = (await redis.keys(`${sluice.prefix}*`)).map((k) => k.slice(sluice.prefix.length)).sort();
      assert.deepEqual(keys, ["{c%3Ddemo}svc-adhoc:per-client:gcra:2:3600000:g", "{c=demo}per-client:g"]);
    } finally {
      redis.disconnect();
    }
  });
});

describe("a call the over-limit cache refuses", () => {
  const client = testRedisClient();
  const store = new FailoverStore({
    primary: new RedisStore({ client, keyPrefix: uniquePrefix() }),
    fallback: new MemoryStore(),
    timeoutMs: 1_000,
    logger: createLogger("silent"),
  });
  const service = new RatelimitService({ store, policies: compilePolicyBook({}) });
  after(() => store.close());

  it("still answers each check's own result", async () => {
    const request = decisionBody.parse({ checks: [{ identifier: "cached", limit: 1, duration: "1h" }, { identifier: "cached", limit: 10, duration: "1h" }] });
    await service.decide(request);
    const refused = await service.decide(request);
    const cached = await service.decide(request);
    for (const answer of [refused, cached]) {
      assert.equal(answer.status, 200);
      const body = (answer as { body: { allowed: boolean; checks: { allowed: boolean; remaining: number }[] } }).body;
      assert.equal(body.allowed, false);
      assert.deepEqual(body.checks.map((c) => [c.allowed, c.remaining]), [[false, 0], [true, 9]]);
    }
  });
});
