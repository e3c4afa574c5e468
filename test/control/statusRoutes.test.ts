// Service names and upstream addresses are not for the public. On the public port /readyz tells
// its status only (the admin token gets the details) and the dashboard names the services to
// signed-in users only. An operator who sets `server.statusPort` gets a listener of their own, on
// loopback unless told otherwise (then, like the public port, answering only this machine's names),
// with /metrics, /readyz in full and /healthz, and the public port no longer serves /metrics. Without one, /metrics stays on the public port, and a start-up
// warning says so when that port is not on loopback.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../../src/config/loader.js";
import { problems } from "../../src/problems/catalogue.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { capturingLogger } from "../support/logCapture.js";
import { rawRequest } from "../support/rawRequest.js";
import { TestBrowser } from "../support/testBrowser.js";

const ADMIN_TOKEN = "status-admin-token";

describe("with a status listener (server.statusPort)", () => {
  let running: AccountsSluice;
  let status: string;
  before(async () => {
    running = await startAccountsSluice((upstream) => `
server: { statusPort: 0 }
limits:
  per-client: { limit: 10, window: 1m }
services:
  inventory: { upstream: "${upstream}/internal-inventory", openapi: false, limits: [per-client] }
`, { adminToken: ADMIN_TOKEN });
    status = running.sluice.statusUrl!;
  });
  after(() => running.close());

  it("listens on loopback by default, on a port of its own", () => {
    assert.match(status, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(status).port, new URL(running.sluice.url).port);
  });

  it("serves the metrics, with the services and their upstreams, which the public port no longer serves", async () => {
    const scrape = await fetch(`${status}/metrics`);
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.ok(text.split("\n").includes(`sluice_upstream_healthy{service="inventory",target="${running.upstream.url}"} 1`), text);

    const publicScrape = await fetch(`${running.sluice.url}/metrics`);
    assert.equal(publicScrape.status, 404);
    assert.doesNotMatch(await publicScrape.text(), /inventory|sluice_/);
  });

  it("serves readiness in full to whoever reaches it, and liveness", async () => {
    const readyz = await fetch(`${status}/readyz`);
    assert.equal(readyz.status, 200);
    assert.deepEqual(await readyz.json(), { status: "ready", config: "loaded", services: { inventory: "reachable" }, limiterStore: "reachable", database: "reachable" });
    assert.deepEqual(await (await fetch(`${status}/healthz`)).json(), { status: "ok" });
    assert.equal((await fetch(`${status}/admin/api/users`)).status, 404, "nothing else");
  });

  it("leaves the public port's readiness terse", async () => {
    const readyz = await fetch(`${running.sluice.url}/readyz`);
    assert.equal(readyz.status, 200);
    assert.deepEqual(await readyz.json(), { status: "ready" });
  });

  it("answers only this machine's names, as a loopback public port does: a rebound page cannot read it", async () => {
    const { port } = new URL(status);
    const rebound = await rawRequest(status, "/metrics", { headers: { host: `evil.example:${port}` } });
    assert.equal(rebound.status, 421);
    assert.equal((JSON.parse(rebound.body) as { code: string }).code, problems.misdirectedRequest.code);
    assert.equal(rebound.headers["connection"], "close");
    assert.doesNotMatch(rebound.body, /inventory|sluice_/);
    assert.equal((await rawRequest(status, "/readyz", { headers: { host: `evil.example:${port}` } })).status, 421);
    assert.equal((await rawRequest(status, "/metrics", { headers: { host: `localhost:${port}` } })).status, 200);
  });

  it("says it is shutting down while the instance drains", async () => {
    const draining = await startSluice({ config: parseConfig("server: { host: 127.0.0.1, port: 0, statusPort: 0, drainDelay: 2s }"), logger: capturingLogger().logger });
    const closed = draining.close();
    const readyz = await fetch(`${draining.statusUrl!}/readyz`);
    assert.equal(readyz.status, 503);
    assert.deepEqual(await readyz.json(), { status: "shutting down", reasons: ["the instance is shutting down"], config: "loaded" });
    await closed;
  });
});

describe("on the public port", () => {
  let running: AccountsSluice;
  before(async () => {
    running = await startAccountsSluice((upstream) => `services: { inventory: { upstream: "${upstream}/internal-inventory", openapi: false } }`, { adminToken: ADMIN_TOKEN });
  });
  after(() => running.close());

  it("readiness names no service but for the admin token", async () => {
    assert.deepEqual(await (await fetch(`${running.sluice.url}/readyz`)).json(), { status: "ready" });
    const detailed = await fetch(`${running.sluice.url}/readyz`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.deepEqual(((await detailed.json()) as { services: unknown }).services, { inventory: "reachable" });
  });

  it("the dashboard names the services to signed-in users only", async () => {
    const stranger = await new TestBrowser(running.sluice.url).get("/dashboard/services.json");
    assert.equal(stranger.status, 401);
    assert.equal((stranger.json as { code: string }).code, problems.notSignedIn.code);

    const browser = new TestBrowser(running.sluice.url);
    assert.equal((await browser.post("/auth/signup", { email: "looker@example.com", password: "correct horse battery" })).status, 201);
    assert.deepEqual((await browser.get("/dashboard/services.json")).json, { services: ["inventory"] });
  });

  it("/metrics stays, without a status listener", async () => {
    assert.equal((await fetch(`${running.sluice.url}/metrics`)).status, 200);
    assert.equal(running.sluice.statusUrl, undefined);
  });
});

describe("the start-up warning", () => {
  const warnings = async (server: string): Promise<string[]> => {
    const log = capturingLogger();
    let sluice: RunningSluice | undefined;
    try {
      sluice = await startSluice({ config: parseConfig(`server: { ${server} }`), logger: log.logger });
    } finally {
      await sluice?.close();
    }
    return log.lines().filter((line) => line["level"] === 40).map((line) => String(line["msg"]));
  };

  it("says /metrics is public when the public port is beyond loopback and no status listener is set", async () => {
    const said = await warnings("host: 0.0.0.0, port: 0");
    assert.ok(said.some((msg) => msg.startsWith("/metrics, which names every service and upstream address, is served on the public port beyond loopback")), said.join("\n"));
  });

  it("is not given on loopback, nor with a status listener", async () => {
    assert.deepEqual(await warnings("host: 127.0.0.1, port: 0"), []);
    assert.deepEqual(await warnings("host: 0.0.0.0, port: 0, statusPort: 0"), []);
  });
});
