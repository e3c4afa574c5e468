// What a reload applies and what waits for a restart: the listener, the store's connection and the
// logger keep their running values and are named; services, limits, consumers, the rate-limit
// service's policies, the shutdown timings and the legacy headers apply.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfig } from "../../src/config/loader.js";
import { reloadableConfig } from "../../src/lifecycle/restartOnlyChanges.js";

const RUNNING = parseConfig(`
server: { port: 8080 }
limits:
  per-client: { limit: 5, window: 30s }
services:
  users: { upstream: "http://127.0.0.1:9000" }
`);

describe("reloadableConfig", () => {
  it("applies services, limits, consumers, policies, shutdown timings and legacy headers at once", () => {
    const next = parseConfig(`
server: { port: 8080, drainDelay: 5s, shutdownTimeout: 1m }
limiter: { legacyHeaders: true }
limits:
  per-client: { limit: 50, window: 30s }
services:
  users: { upstream: "http://127.0.0.1:9001" }
consumers:
  demo: { keys: [secret-key] }
policies:
  emails:
    descriptors:
      - key: user
        limit: { limit: 10, window: 1m }
`);
    const { config, pending } = reloadableConfig(RUNNING, next);
    assert.deepEqual(pending, []);
    assert.deepEqual(config, next);
  });

  it("keeps the running value of each restart-only setting and names it", () => {
    const next = parseConfig(`
server: { port: 9090, trustedProxies: 1 }
limiter: { keyPrefix: "other:" }
log: { level: debug }
limits:
  per-client: { limit: 50, window: 30s }
services:
  users: { upstream: "http://127.0.0.1:9000" }
`);
    const { config, pending } = reloadableConfig(RUNNING, next);
    assert.deepEqual(pending, ["server.port", "server.trustedProxies", "limiter.keyPrefix", "log.level"]);
    assert.deepEqual(config.server, RUNNING.server);
    assert.deepEqual(config.limiter, RUNNING.limiter);
    assert.deepEqual(config.log, RUNNING.log);
    assert.equal(config.limits["per-client"]?.limit, 50);
  });

  it("keeps tracing as it runs, whether the file turns it on, changes it or turns it off", () => {
    const tracing = 'tracing: { endpoint: "http://127.0.0.1:4318/v1/traces" }';
    const services = 'services: { users: { upstream: "http://127.0.0.1:9001" } }';
    const on = reloadableConfig(RUNNING, parseConfig(`${tracing}\n${services}`));
    assert.deepEqual(on.pending, ["tracing"]);
    assert.equal(on.config.tracing, undefined);
    assert.equal(on.config.services["users"]?.upstream, "http://127.0.0.1:9001");
    const traced = parseConfig(`server: { port: 8080 }\n${tracing}`);
    const changed = reloadableConfig(traced, parseConfig(`server: { port: 8080 }\ntracing: { endpoint: "http://127.0.0.1:4318/v1/traces", sampleRatio: 0.1 }`));
    assert.deepEqual(changed.pending, ["tracing"]);
    assert.deepEqual(changed.config.tracing, traced.tracing);
    const off = reloadableConfig(traced, parseConfig("server: { port: 8080 }"));
    assert.deepEqual(off.pending, ["tracing"]);
    assert.deepEqual(off.config.tracing, traced.tracing);
    assert.deepEqual(reloadableConfig(traced, traced).pending, []);
  });
});
