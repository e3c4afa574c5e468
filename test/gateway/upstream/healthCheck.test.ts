// Active health checks against real upstreams: a target failing its probes the configured
// number of times in a row is taken out, and comes back after enough passes in a row.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { HealthChecker } from "../../../src/gateway/upstream/healthCheck.js";
import { UpstreamTarget } from "../../../src/gateway/upstream/target.js";

let status = 200;
const probed: string[] = [];
let server: Server;
let target: UpstreamTarget;
let refused: UpstreamTarget;

before(async () => {
  server = createServer((req, res) => {
    probed.push(req.url ?? "");
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const timeouts = { connectMs: 1_000, headersMs: 1_000, bodyIdleMs: 1_000 };
  const breaker = { failures: 5, backoffMs: 1_000, maxBackoffMs: 1_000 };
  target = new UpstreamTarget(new URL(`http://127.0.0.1:${port}/base/`), timeouts, breaker, Date.now);
  refused = new UpstreamTarget(new URL("http://127.0.0.1:1"), timeouts, breaker, Date.now);
});
after(async () => {
  await Promise.all([target.pool.close(), refused.pool.close()]);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("HealthChecker", () => {
  const settings = { path: "/health", intervalMs: 60_000, timeoutMs: 1_000, healthyThreshold: 2, unhealthyThreshold: 3 };

  it("probes the configured path under each target's own path", async () => {
    await new HealthChecker([target], settings).checkAll();
    assert.equal(probed.at(-1), "/base/health");
    assert.equal(target.checkedHealthy, true);
  });

  it("takes a target out after unhealthyThreshold failed probes in a row, and back after healthyThreshold passes", async () => {
    const checker = new HealthChecker([target], settings);
    status = 503;
    await checker.checkAll();
    await checker.checkAll();
    assert.equal(target.checkedHealthy, true, "two failures are below the threshold");
    await checker.checkAll();
    assert.equal(target.health.state, "unhealthy");
    status = 200;
    await checker.checkAll();
    assert.equal(target.checkedHealthy, false, "one pass is below the threshold");
    await checker.checkAll();
    assert.equal(target.checkedHealthy, true);
  });

  it("counts a refused connection as a failed probe, and checks every target of a service", async () => {
    const checker = new HealthChecker([target, refused], { ...settings, unhealthyThreshold: 1 });
    await checker.checkAll();
    assert.deepEqual([target.health.state, refused.health.state], ["healthy", "unhealthy"]);
  });

  it("runs by itself on its interval once started", async () => {
    const before = probed.length;
    const checker = new HealthChecker([target], { ...settings, intervalMs: 10 });
    checker.start();
    try {
      while (probed.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      checker.stop();
    }
    assert.ok(probed.length > before);
  });
});
