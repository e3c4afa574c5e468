// Limits over real HTTP: several limits on one request are checked together and a refused
// request consumes none of them; limits can count by client IP or by a header; a route's own
// limits replace its service's.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
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
