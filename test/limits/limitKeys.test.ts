// A limit counted `by: [param:id]` gives each value of the route's `:id` segment one counter, and
// a client cannot get a fresh one by spelling the same value differently: a `;` parameter
// (`/items/104;a`, which Tomcat and Spring drop), encoded characters (`%31%30%34`, `104%21`),
// or a `;` on a literal segment that would otherwise send the request to a catch-all route
// without the limit. Over the wire, against a real upstream, with the counter's limit of 2.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { segmentValue } from "../../src/limits/limitKeys.js";
import { rawRequest } from "../support/rawRequest.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../support/testSluice.js";

const KEY = "limit-keys-test-key";
let upstream: RecordingUpstream;
let sluice: TestSluice;

before(async () => {
  upstream = await startRecordingUpstream((_request, res) => res.end("ok"));
  sluice = await startTestSluice(`
limits:
  per-item: { algorithm: fixed-window, limit: 2, window: 1m, by: [param:id] }
  per-report: { algorithm: fixed-window, limit: 2, window: 1m, by: [consumer] }
  generous: { limit: 1000, window: 1s }
services:
  shop:
    upstream: "${upstream.url}"
    openapi: false
    routes:
      - { path: /items/:id, limits: [per-item] }
      - { path: /report, limits: [per-report] }
      - { path: /*, limits: [generous] }
consumers:
  tester: { keys: [${KEY}] }
`);
});
after(async () => {
  await sluice.close();
  await upstream.close();
});

/** Statuses of the paths in order, sent exactly as written. */
async function statuses(paths: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const path of paths) out.push((await rawRequest(sluice.url, path, { headers: { "x-api-key": KEY } })).status);
  return out;
}

describe("param: limit keys", () => {
  it("count every spelling of one value against one counter", async () => {
    assert.deepEqual(await statuses(["/api/shop/items/104", "/api/shop/items/104;a", "/api/shop/items/104;a=b;c", "/api/shop/items/%31%30%34", "/api/shop/items/104;"]), [200, 200, 429, 429, 429]);
  });

  it("decode what an upstream's router decodes: 105! and 105%21 are one value", async () => {
    assert.deepEqual(await statuses(["/api/shop/items/105!", "/api/shop/items/105%21;x", "/api/shop/items/105%21"]), [200, 200, 429]);
  });

  it("still count different values apart", async () => {
    assert.deepEqual(await statuses(["/api/shop/items/106", "/api/shop/items/107", "/api/shop/items/1060"]), [200, 200, 200]);
  });

  it("forward the path as it was sent, parameters included", async () => {
    await statuses(["/api/shop/items/108;v=2"]);
    assert.equal(upstream.received.at(-1)!.url, "/items/108;v=2");
  });
});

describe("routes", () => {
  it("match a literal segment with a ; parameter, so it cannot slip to the catch-all route", async () => {
    assert.deepEqual(await statuses(["/api/shop/report", "/api/shop/report;x", "/api/shop/report;jsessionid=1"]), [200, 200, 429]);
  });
});

describe("segmentValue", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["104", "104"],
    ["104%21", "104!"],
    ["caf%C3%A9", "café"],
    ["a%20b", "a b"],
    ["%C3", "%C3"], // not UTF-8 once decoded: kept as spelled
  ];
  for (const [segment, expected] of cases) {
    it(`${JSON.stringify(segment)} counts as ${JSON.stringify(expected)}`, () => assert.equal(segmentValue(segment), expected));
  }
});
