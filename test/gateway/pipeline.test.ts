// The pipeline runner: stages run in the documented order, a refusal stops the walk, and a
// stage that throws or rejects becomes a 500 problem that reveals nothing of the cause.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Exchange, type Stage } from "../../src/gateway/exchange.js";
import { gatewayStages, runPipeline } from "../../src/gateway/pipeline.js";
import { identify } from "../../src/gateway/stages/identify.js";
import { createLogger } from "../../src/observability/logger.js";
import { problems } from "../../src/problems/catalogue.js";
import { MemoryStore } from "../../src/stores/memoryStore.js";

const logger = createLogger("silent");
let server: Server;
let url: string;
let stagesFor: (path: string) => Stage[];

const ok: Stage = (exchange: Exchange) => {
  exchange.res.writeHead(200, { "content-type": "text/plain" });
  exchange.res.end("reached the end");
  return undefined;
};

before(async () => {
  stagesFor = (path) => {
    switch (path) {
      case "/throws": return [identify(), () => { throw new Error("secret internals"); }, ok];
      case "/rejects": return [identify(), () => Promise.reject(new Error("secret internals")), ok];
      case "/refuses-later": return [identify(), () => Promise.resolve({ kind: problems.rateLimited, detail: "no", headers: { "retry-after": "3" } }), ok];
      default: return [identify(), () => Promise.resolve(undefined), () => undefined, ok];
    }
  };
  server = createServer((req, res) => runPipeline(stagesFor(req.url ?? "/"), new Exchange(req, res), 0, logger));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("runPipeline", () => {
  it("runs synchronous and asynchronous stages through to the last", async () => {
    const response = await fetch(`${url}/fine`);
    assert.equal(await response.text(), "reached the end");
  });

  for (const path of ["/throws", "/rejects"]) {
    it(`answers a stage that ${path.slice(1)} with a 500 problem that hides the cause`, async () => {
      const response = await fetch(url + path);
      assert.equal(response.status, 500);
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      const body = await response.text();
      assert.equal((JSON.parse(body) as { code: string }).code, "SLUICE_ERR_INTERNAL");
      assert.doesNotMatch(body, /secret internals/);
    });
  }

  it("stops at a refusal, even one that comes later, with its headers", async () => {
    const response = await fetch(`${url}/refuses-later`);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get("retry-after"), "3");
    assert.equal(((await response.json()) as { code: string }).code, "SLUICE_ERR_RATE_LIMITED");
  });
});

describe("the gateway's stages", () => {
  it("run in the order identify → authenticate → route → limit → proxy", () => {
    const stages = gatewayStages({ table: new Map(), verifier: { verify: () => undefined, known: () => undefined }, store: new MemoryStore({ sweepIntervalMs: 0 }), logger });
    assert.deepEqual(stages.map((stage) => stage.name), ["identify", "authenticate", "route", "limit", "proxy"]);
  });

  it("shed right after identify when a load shedder is given, before anything authenticates or counts", () => {
    const stages = gatewayStages({ table: new Map(), verifier: { verify: () => undefined, known: () => undefined }, store: new MemoryStore({ sweepIntervalMs: 0 }), logger, shedder: { shed: () => undefined } });
    assert.deepEqual(stages.map((stage) => stage.name), ["identify", "shed", "authenticate", "route", "limit", "proxy"]);
  });
});
