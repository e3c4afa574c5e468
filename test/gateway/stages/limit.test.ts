// Limits over real HTTP: several limits on one request are checked together and a refused
// request consumes none of them; limits can count by client IP or by a header; a route's own
// limits replace its service's. Every decision shows in /metrics under its limit and outcome.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { metricLines } from "../../support/metricLines.js";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

let upstream: RecordingUpstream;
let sluice: TestSluice;

before(async () => {
  upstream = await startRecordingUpstream();
  sluice = await startTestSluice(`
limits:
  burst: { algorithm: gcra, limit: 2, window: 1s, by: [consumer] }
  daily: { algorithm: fixed-window, limit: 3, window: 1d, by: [consumer] }
  per-ip: { algorithm: fixed-window, limit: 4, window: 1m, by: [ip] }
  per-tenant: { algorithm: fixed-window, limit: 1, window: 1m, by: [header:x-tenant] }
services:
  layered: { upstream: "${upstream.url}", limits: [burst, daily], openapi: false }
  shared-ip: { upstream: "${upstream.url}", limits: [per-ip], openapi: false }
  tenants:
    upstream: "${upstream.url}"
    openapi: false
    limits: [per-ip]
    routes:
      - { path: /by-tenant/*, limits: [per-tenant] }
      - { path: /* }
consumers:
  alice: { keys: [alice-key-0001] }
  bob: { keys: [bob-key-00001] }
`);
});
after(async () => {
  await sluice.close();
  await upstream.close();
});
beforeEach(() => sluice.clock.advance(2 * 86_400_000));

async function statusOf(path: string, key: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await sluice.call(path, { key, headers });
  await response.body?.cancel();
  return response.status;
}

describe("several limits on one request", () => {
  it("admits only while every limit admits, and reports the binding one", async () => {
    assert.equal(await statusOf("/api/layered/a", "alice-key-0001"), 200);
    const second = await sluice.call("/api/layered/a", { key: "alice-key-0001" });
    await second.body?.cancel();
    assert.equal(second.headers.get("ratelimit-policy"), '"burst";q=2;w=1, "daily";q=3;w=86400');
    assert.equal(second.headers.get("ratelimit"), '"burst";r=0;t=1');

    const third = await sluice.call("/api/layered/a", { key: "alice-key-0001" });
    assert.equal(third.status, 429);
    assert.equal(third.headers.get("ratelimit"), '"burst";r=0;t=1');
    assert.equal(third.headers.get("retry-after"), "1");
  });

  it("consumes nothing from the daily quota when the burst limit refuses", async () => {
    const upstreamBefore = upstream.received.length;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push(await statusOf("/api/layered/a", "alice-key-0001")); // all at one instant
    assert.deepEqual(statuses, [200, 200, 429, 429, 429, 429]);
    assert.equal(upstream.received.length - upstreamBefore, 2);

    sluice.clock.advance(1_000); // the burst refills; the daily quota has 1 of 3 left, not 0
    const third = await sluice.call("/api/layered/a", { key: "alice-key-0001" });
    assert.equal(third.status, 200);
    assert.equal(third.headers.get("ratelimit"), '"daily";r=0;t=86399');
    assert.equal(await statusOf("/api/layered/a", "alice-key-0001"), 429);
  });
});

describe("what a limit counts by", () => {
  it("counts by client IP across consumers", async () => {
    const statuses = [
      await statusOf("/api/shared-ip/x", "alice-key-0001"),
      await statusOf("/api/shared-ip/x", "bob-key-00001"),
      await statusOf("/api/shared-ip/x", "alice-key-0001"),
      await statusOf("/api/shared-ip/x", "bob-key-00001"),
      await statusOf("/api/shared-ip/x", "bob-key-00001"),
    ];
    assert.deepEqual(statuses, [200, 200, 200, 200, 429]);
  });

  it("counts by a header's value, and a route's limits replace the service's", async () => {
    assert.equal(await statusOf("/api/tenants/by-tenant/1", "alice-key-0001", { "x-tenant": "acme" }), 200);
    assert.equal(await statusOf("/api/tenants/by-tenant/2", "bob-key-00001", { "x-tenant": "acme" }), 429);
    assert.equal(await statusOf("/api/tenants/by-tenant/3", "alice-key-0001", { "x-tenant": "globex" }), 200);
    // Five requests on by-tenant routes did not touch the service's per-ip limit of 4:
    for (let i = 0; i < 4; i++) assert.equal(await statusOf("/api/tenants/other", "alice-key-0001"), 200);
    assert.equal(await statusOf("/api/tenants/other", "alice-key-0001"), 429);
  });
});

describe("costs, path parameters, plans, shadow limits, concurrency and legacy headers", () => {
  const held: ServerResponse[] = [];
  let slow: RecordingUpstream;
  let gw: TestSluice;
  before(async () => {
    slow = await startRecordingUpstream((request, res) => {
      if (request.url.startsWith("/hold")) held.push(res);
      else res.end("ok");
    });
    gw = await startTestSluice(`
limiter: { legacyHeaders: true }
limits:
  units: { algorithm: fixed-window, limit: 10, window: 1m, by: [consumer] }
  per-user: { algorithm: fixed-window, limit: 1, window: 1m, by: [param:id] }
  per-plan: { algorithm: fixed-window, limit: 3, window: 1m, by: [plan] }
  watching: { algorithm: fixed-window, limit: 1, window: 1m, by: [consumer], shadow: true }
  inflight: { algorithm: concurrency, limit: 1, by: [consumer] }
services:
  costly:
    upstream: "${slow.url}"
    openapi: false
    routes:
      - { path: /report, cost: 4, limits: [units] }
      - { path: /users/:id/profile, limits: [per-user] }
      - { path: /planned, limits: [per-plan] }
      - { path: /watched, limits: [watching] }
      - { path: /hold/*, limits: [inflight] }
consumers:
  alice: { keys: [alice-key-0001], plan: gold }
  bob: { keys: [bob-key-00001], plan: gold }
  carol: { keys: [carol-key-0001] }
`);
  });
  after(async () => {
    for (const res of held) res.end();
    await gw.close();
    await slow.close();
  });

  it("charges a route's cost to its limits", async () => {
    const first = await gw.call("/api/costly/report", { key: "alice-key-0001" });
    assert.equal(first.headers.get("ratelimit"), '"units";r=6;t=60');
    assert.equal(first.headers.get("x-ratelimit-remaining"), "6", "legacy headers when asked for");
    assert.equal(first.headers.get("x-ratelimit-limit"), "10");
    await first.body?.cancel();
    const second = await gw.call("/api/costly/report", { key: "alice-key-0001" });
    await second.body?.cancel();
    const third = await gw.call("/api/costly/report", { key: "alice-key-0001" });
    await third.body?.cancel();
    assert.deepEqual([second.status, third.status], [200, 429], "2 units left cannot pay for 4");
  });

  it("counts by a path parameter", async () => {
    assert.equal(await gwStatus("/api/costly/users/7/profile", "alice-key-0001"), 200);
    assert.equal(await gwStatus("/api/costly/users/7/profile", "bob-key-00001"), 429);
    assert.equal(await gwStatus("/api/costly/users/8/profile", "bob-key-00001"), 200);
  });

  it("counts by plan: consumers on one plan share the counter", async () => {
    const statuses = [await gwStatus("/api/costly/planned", "alice-key-0001"), await gwStatus("/api/costly/planned", "bob-key-00001"), await gwStatus("/api/costly/planned", "alice-key-0001")];
    assert.deepEqual(statuses, [200, 200, 200]);
    assert.equal(await gwStatus("/api/costly/planned", "bob-key-00001"), 429);
    assert.equal(await gwStatus("/api/costly/planned", "carol-key-0001"), 200, "carol has no plan of her own counter");
  });

  it("never refuses for a shadow limit, and does not announce it", async () => {
    for (let i = 0; i < 3; i++) {
      const response = await gw.call("/api/costly/watched", { key: "alice-key-0001" });
      await response.body?.cancel();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("ratelimit"), null);
      assert.equal(response.headers.get("ratelimit-policy"), null);
    }
  });

  it("holds a concurrency slot while the response is in flight and gives it back when it ends", async () => {
    const first = gw.call("/api/costly/hold/1", { key: "alice-key-0001" });
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = await gw.call("/api/costly/hold/2", { key: "alice-key-0001" });
    assert.equal(second.status, 429);
    assert.equal(second.headers.get("retry-after"), "1");
    assert.equal(second.headers.get("ratelimit"), null, "a concurrency limit states no quota per window");
    await second.body?.cancel();

    held.shift()!.end("done");
    assert.equal(await (await first).text(), "done");
    const third = gw.call("/api/costly/hold/3", { key: "alice-key-0001" });
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    held.shift()!.end("again");
    assert.equal((await third).status, 200);
  });

  async function gwStatus(path: string, key: string): Promise<number> {
    const response = await gw.call(path, { key });
    await response.body?.cancel();
    return response.status;
  }
});

describe("metrics", () => {
  let gw: TestSluice;
  before(async () => {
    gw = await startTestSluice(`
limits:
  metered: { algorithm: fixed-window, limit: 3, window: 1m, by: [consumer] }
  watching: { algorithm: fixed-window, limit: 1, window: 1m, by: [consumer], shadow: true }
services:
  metered: { upstream: "${upstream.url}", limits: [metered], openapi: false }
  watched: { upstream: "${upstream.url}", limits: [watching], openapi: false }
consumers:
  alice: { keys: [alice-key-0001] }
`);
  });
  after(() => gw.close());

  async function decisionLines(limitName: string): Promise<string[]> {
    const response = await gw.call("/metrics");
    assert.equal(response.status, 200);
    return metricLines(await response.text(), `sluice_limiter_decisions_total{limit="${limitName}",`);
  }

  it("counts exactly the requests a limit admitted and refused", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await gw.call("/api/metered/x", { key: "alice-key-0001" });
      await response.body?.cancel();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.deepEqual(await decisionLines("metered"), [
      'sluice_limiter_decisions_total{limit="metered",outcome="allowed"} 3',
      'sluice_limiter_decisions_total{limit="metered",outcome="limited"} 2',
      'sluice_limiter_decisions_total{limit="metered",outcome="shadow_limited"} 0',
      'sluice_limiter_decisions_total{limit="metered",outcome="store_failure_open"} 0',
      'sluice_limiter_decisions_total{limit="metered",outcome="store_failure_closed"} 0',
      'sluice_limiter_decisions_total{limit="metered",outcome="store_failure_local"} 0',
    ]);
  });

  it("counts a shadow limit's would-be refusals as shadow_limited while admitting them", async () => {
    for (let i = 0; i < 3; i++) {
      const response = await gw.call("/api/watched/x", { key: "alice-key-0001" });
      await response.body?.cancel();
      assert.equal(response.status, 200);
    }
    const lines = await decisionLines("watching");
    assert.deepEqual(lines.slice(0, 3), [
      'sluice_limiter_decisions_total{limit="watching",outcome="allowed"} 1',
      'sluice_limiter_decisions_total{limit="watching",outcome="limited"} 0',
      'sluice_limiter_decisions_total{limit="watching",outcome="shadow_limited"} 2',
    ]);
  });
});
