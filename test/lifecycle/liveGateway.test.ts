// Reloading a running gateway's config (RunningSluice.reload, on LiveGateway): new requests take
// the new config at once, a request in flight finishes on the config it started with, counters
// of an unchanged limit carry on, a limit whose algorithm changed starts afresh, and the demo
// services keep running.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { parseConfig } from "../../src/config/loader.js";
import type { SluiceConfig } from "../../src/config/schema.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { DEMO_YAML, startTestSluice, type TestSluice } from "../support/testSluice.js";

const config = (yaml: string): SluiceConfig => {
  const parsed = parseConfig(yaml, "reloaded.yaml");
  return { ...parsed, server: { ...parsed.server, host: "127.0.0.1", port: 0 } };
};

async function status(sluice: TestSluice, path: string): Promise<number> {
  const response = await sluice.call(path, { key: "secret-key" });
  await response.body?.cancel();
  return response.status;
}

describe("reloading the config of a running gateway", () => {
  let sluice: TestSluice;
  after(() => sluice?.close());

  it("serves a new service and a new limit to the next request", async () => {
    sluice = await startTestSluice(DEMO_YAML);
    assert.equal(await status(sluice, "/api/people/users/104"), 404);
    await sluice.reload(config(DEMO_YAML.replace("services:", 'services:\n  people: { upstream: "demo://users", limits: [random-per-minute] }')));
    const response = await sluice.call("/api/people/users/104", { key: "secret-key" });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("ratelimit-policy") ?? "", /"random-per-minute";q=5;w=60/);
  });

  it("keeps the demo services running: the same addresses answer after the reload", async () => {
    const before = new Map(sluice.demo!.urls);
    await sluice.reload(config(DEMO_YAML));
    assert.deepEqual(new Map(sluice.demo!.urls), before);
    assert.equal(await status(sluice, "/api/users/users/104"), 200);
  });

  it("carries the counters of an unchanged limit over the reload", async () => {
    // per-client admits 5 per 30 s (the clock stands still): spend what is left of it.
    let spent = 0;
    while (await status(sluice, "/api/recommend/recommend/101") === 200) spent++;
    assert.ok(spent <= 5);
    await sluice.reload(config(DEMO_YAML));
    assert.equal(await status(sluice, "/api/users/users/101"), 429);
  });

  it("starts the counters of a limit afresh when its algorithm changes under the same name", async () => {
    await sluice.reload(config(DEMO_YAML.replace("algorithm: sliding-window-log, limit: 5", "algorithm: fixed-window, limit: 3")));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push(await status(sluice, "/api/users/users/101"));
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });

  it("names the settings that need a restart and keeps their running values", async () => {
    const port = Number(new URL(sluice.url).port);
    const { pending } = await sluice.reload(config(DEMO_YAML.replace("limits:", "server: { trustedProxies: 1 }\nlimiter: { keyPrefix: other- }\nlimits:")));
    assert.deepEqual(pending, ["server.trustedProxies", "limiter.keyPrefix"]);
    assert.equal(Number(new URL(sluice.url).port), port);
  });
});

describe("a request in flight during a reload", () => {
  let upstream: RecordingUpstream;
  let sluice: TestSluice;
  let release: () => void = () => undefined;
  after(async () => {
    release();
    await sluice?.close();
    await upstream?.close();
  });

  const yaml = (upstreamUrl: string) => `
services:
  slow: { upstream: "${upstreamUrl}", openapi: false }
consumers:
  demo: { keys: [secret-key] }
`;

  it("finishes on the config it started with, though the reload removed its service", async () => {
    const held = new Promise<void>((resolve) => (release = resolve));
    upstream = await startRecordingUpstream((_request, res) => {
      void held.then(() => res.end("finally"));
    });
    sluice = await startTestSluice(yaml(upstream.url));
    const inFlight = sluice.call("/api/slow/wait", { key: "secret-key" });
    while (!upstream.received.some((r) => r.url === "/wait")) await new Promise((resolve) => setTimeout(resolve, 10));

    await sluice.reload(config("consumers:\n  demo: { keys: [secret-key] }\n"));
    assert.equal(await status(sluice, "/api/slow/wait"), 404);

    release();
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "finally");
  });
});
