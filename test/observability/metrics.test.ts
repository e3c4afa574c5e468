// Each Sluice instance has its own Prometheus registry. The limiter counts every decision by
// limit and outcome — admitted, refused, refused by a shadow limit, or answered by a failure mode
// while the shared store is down — and the failover store's outages and latency show beside them,
// with the API-key cache's hits and misses. (The gateway's request series: gatewayObserver.test.ts.)
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { register } from "prom-client";
import { parseConfig } from "../../src/config/loader.js";
import type { Decision, Verdict } from "../../src/limiter/decision.js";
import type { FailureMode, Policy } from "../../src/limiter/policy.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { startAccountsSluice, type AccountsSluice } from "../support/accountsSluice.js";
import { metricLines } from "../support/metricLines.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";

const policy = (name: string, extra: { shadow?: boolean; onStoreFailure?: FailureMode } = {}): Policy => ({ name, algorithm: "fixed-window", limit: 1, windowMs: 60_000, ...extra });
const decision = (p: Policy, allowed: boolean, reason?: Decision["reason"]): Decision => ({ policy: p, allowed, limit: 1, remaining: 0, resetAt: 0, ...(reason && { reason }) });
const verdict = (decisions: Decision[], via?: Verdict["via"]): Verdict => ({ allowed: decisions.every((d) => d.allowed || d.policy.shadow === true), decisions, now: 0, ...(via && { via }) });

describe("limiter decisions", () => {
  it("counts each decision once, under its limit and outcome", async () => {
    const metrics = createMetrics({ limits: ["burst", "watching", "idle"], processMetrics: false });
    const burst = policy("burst");
    const watching = policy("watching", { shadow: true });
    metrics.limiter.record(verdict([decision(burst, true), decision(watching, true)]));
    metrics.limiter.record(verdict([decision(burst, true), decision(watching, false)]));
    metrics.limiter.record(verdict([decision(burst, false), decision(watching, false)]));

    assert.deepEqual(metricLines(await metrics.render(), "sluice_limiter_decisions_total"), [
      'sluice_limiter_decisions_total{limit="burst",outcome="allowed"} 2',
      'sluice_limiter_decisions_total{limit="burst",outcome="limited"} 1',
      'sluice_limiter_decisions_total{limit="burst",outcome="shadow_limited"} 0',
      'sluice_limiter_decisions_total{limit="burst",outcome="store_failure_open"} 0',
      'sluice_limiter_decisions_total{limit="burst",outcome="store_failure_closed"} 0',
      'sluice_limiter_decisions_total{limit="burst",outcome="store_failure_local"} 0',
      'sluice_limiter_decisions_total{limit="watching",outcome="allowed"} 1',
      'sluice_limiter_decisions_total{limit="watching",outcome="limited"} 0',
      'sluice_limiter_decisions_total{limit="watching",outcome="shadow_limited"} 2',
      'sluice_limiter_decisions_total{limit="watching",outcome="store_failure_open"} 0',
      'sluice_limiter_decisions_total{limit="watching",outcome="store_failure_closed"} 0',
      'sluice_limiter_decisions_total{limit="watching",outcome="store_failure_local"} 0',
      'sluice_limiter_decisions_total{limit="idle",outcome="allowed"} 0',
      'sluice_limiter_decisions_total{limit="idle",outcome="limited"} 0',
      'sluice_limiter_decisions_total{limit="idle",outcome="shadow_limited"} 0',
      'sluice_limiter_decisions_total{limit="idle",outcome="store_failure_open"} 0',
      'sluice_limiter_decisions_total{limit="idle",outcome="store_failure_closed"} 0',
      'sluice_limiter_decisions_total{limit="idle",outcome="store_failure_local"} 0',
    ]);
  });

  it("counts a verdict of the failure modes by each limit's mode, and the request as a store failure", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const open = policy("open", { onStoreFailure: "open" });
    const closed = policy("closed", { onStoreFailure: "closed" });
    const local = policy("local", { onStoreFailure: "local" });
    metrics.limiter.record(verdict([decision(open, true), decision(closed, false, "store-unavailable"), decision(local, true)], "store-failure"));
    metrics.limiter.record(verdict([decision(local, false)], "store-failure"));

    const text = await metrics.render();
    assert.deepEqual(metricLines(text, "sluice_limiter_decisions_total").filter((l) => !l.endsWith(" 0")), [
      'sluice_limiter_decisions_total{limit="open",outcome="store_failure_open"} 1',
      'sluice_limiter_decisions_total{limit="closed",outcome="store_failure_closed"} 1',
      'sluice_limiter_decisions_total{limit="local",outcome="store_failure_local"} 2',
    ]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_failures_total"), ["sluice_limiter_store_failures_total 2"]);
  });

  it("counts a denial from the over-limit cache as limited and as a cache hit", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const daily = policy("daily");
    metrics.limiter.record(verdict([decision(daily, false)]));
    metrics.limiter.record(verdict([decision(daily, false)], "over-limit-cache"));
    metrics.limiter.record(verdict([decision(daily, false)], "over-limit-cache"));

    const text = await metrics.render();
    assert.deepEqual(metricLines(text, 'sluice_limiter_decisions_total{limit="daily",outcome="limited"}'), ['sluice_limiter_decisions_total{limit="daily",outcome="limited"} 3']);
    assert.deepEqual(metricLines(text, "sluice_limiter_over_limit_cache_hits_total"), ['sluice_limiter_over_limit_cache_hits_total{limit="daily"} 2']);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_failures_total"), ["sluice_limiter_store_failures_total 0"]);
  });
});

describe("the shared store's health", () => {
  it("is degraded from an outage's beginning to its end, and records its length", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const degraded = async () => metricLines(await metrics.render(), "sluice_limiter_store_degraded");
    assert.deepEqual(await degraded(), ["sluice_limiter_store_degraded 0"]);
    metrics.storeObserver.outageBegan();
    assert.deepEqual(await degraded(), ["sluice_limiter_store_degraded 1"]);
    metrics.storeObserver.outageEnded(12);
    assert.deepEqual(await degraded(), ["sluice_limiter_store_degraded 0"]);

    const outages = metricLines(await metrics.render(), "sluice_limiter_store_outage_duration_seconds");
    assert.ok(outages.includes('sluice_limiter_store_outage_duration_seconds_bucket{le="5"} 0'));
    assert.ok(outages.includes('sluice_limiter_store_outage_duration_seconds_bucket{le="15"} 1'));
    assert.deepEqual(outages.slice(-2), ["sluice_limiter_store_outage_duration_seconds_sum 12", "sluice_limiter_store_outage_duration_seconds_count 1"]);
  });

  it("records each store call's latency", async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.storeObserver.storeCall(0.002);
    metrics.storeObserver.storeCall(0.04);
    const calls = metricLines(await metrics.render(), "sluice_limiter_store_duration_seconds");
    assert.ok(calls.includes('sluice_limiter_store_duration_seconds_bucket{le="0.001"} 0'));
    assert.ok(calls.includes('sluice_limiter_store_duration_seconds_bucket{le="0.0025"} 1'));
    assert.ok(calls.includes('sluice_limiter_store_duration_seconds_bucket{le="0.05"} 2'));
    assert.deepEqual(calls.slice(-2), ["sluice_limiter_store_duration_seconds_sum 0.042", "sluice_limiter_store_duration_seconds_count 2"]);
  });
});

describe("registries", () => {
  it("keeps each instance's series apart, and out of prom-client's global registry", async () => {
    const one = createMetrics({ limits: ["shared-name"], processMetrics: false });
    const two = createMetrics({ limits: ["shared-name"], processMetrics: false });
    one.limiter.record(verdict([decision(policy("shared-name"), true)]));
    const allowed = 'sluice_limiter_decisions_total{limit="shared-name",outcome="allowed"}';
    assert.deepEqual(metricLines(await one.render(), allowed), [`${allowed} 1`]);
    assert.deepEqual(metricLines(await two.render(), allowed), [`${allowed} 0`]);
    assert.equal(register.getSingleMetric("sluice_limiter_decisions_total"), undefined);
  });

  it("exports the process and Node.js metrics, in the Prometheus text format", async () => {
    const metrics = createMetrics();
    const text = await metrics.render();
    assert.equal(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8");
    assert.equal(metricLines(text, "# TYPE process_cpu_user_seconds_total ").length, 1);
    assert.equal(metricLines(text, "# TYPE nodejs_eventloop_lag_seconds ").length, 1);
  });
});

describe("GET /metrics while Redis is unreachable", () => {
  let upstream: RecordingUpstream;
  let sluice: RunningSluice;
  const get = async (path: string, key?: string) => fetch(sluice.url + path, { headers: key ? { "x-api-key": key } : {} });
  const logged: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { logged.push(chunk.toString()); done(); } });

  before(async () => {
    upstream = await startRecordingUpstream();
    const config = parseConfig(`
limiter: { timeout: 50ms }
limits:
  lenient: { algorithm: fixed-window, limit: 5, window: 1m, by: [consumer], onStoreFailure: open }
  strict: { algorithm: fixed-window, limit: 5, window: 1m, by: [consumer], onStoreFailure: closed }
  nearby: { algorithm: fixed-window, limit: 5, window: 1m, by: [consumer], onStoreFailure: local }
services:
  guarded: { upstream: "${upstream.url}", limits: [lenient, strict, nearby], openapi: false }
  relaxed: { upstream: "${upstream.url}", limits: [lenient], openapi: false }
consumers:
  alice: { keys: [alice-key-0001] }
`);
    // Nothing listens on port 1: start-up waits for Redis in vain, then every decision fails.
    sluice = await startSluice({ config: { ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } }, redisUrl: "redis://127.0.0.1:1", logger: createLogger("info", sink) });
  });
  after(async () => {
    await sluice.close();
    await upstream.close();
  });

  it("counts each limit's failure mode, the requests the modes answered, and shows the store degraded", async () => {
    const statuses = [];
    for (const path of ["/api/guarded/a", "/api/guarded/b", "/api/relaxed/c"]) {
      const response = await get(path, "alice-key-0001");
      await response.body?.cancel();
      statuses.push(response.status);
    }
    assert.deepEqual(statuses, [503, 503, 200], "the closed limit refuses; the open one admits");

    const response = await get("/metrics");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    assert.deepEqual(metricLines(text, "sluice_limiter_decisions_total").filter((l) => !l.endsWith(" 0")), [
      'sluice_limiter_decisions_total{limit="lenient",outcome="store_failure_open"} 3',
      'sluice_limiter_decisions_total{limit="strict",outcome="store_failure_closed"} 2',
      'sluice_limiter_decisions_total{limit="nearby",outcome="store_failure_local"} 2',
    ]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_failures_total"), ["sluice_limiter_store_failures_total 3"]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_degraded"), ["sluice_limiter_store_degraded 1"]);
    assert.deepEqual(metricLines(text, "sluice_limiter_store_duration_seconds_count"), ["sluice_limiter_store_duration_seconds_count 0"], "failing since start-up: decisions do not wait for Redis");
    assert.deepEqual(metricLines(text, "sluice_limiter_store_outage_duration_seconds_count"), ["sluice_limiter_store_outage_duration_seconds_count 0"], "the outage has not ended");
  });

  it("logs each request's limiter outcome: the failure mode that decided it, and the limit that refused", () => {
    const access = logged.join("").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line["msg"] === "request");
    assert.deepEqual(access.map((line) => [line["path"], line["status"], line["limiter"], line["limit"]]), [
      ["/api/guarded/a", 503, "store_failure_closed", "strict"],
      ["/api/guarded/b", 503, "store_failure_closed", "strict"],
      ["/api/relaxed/c", 200, "store_failure_open", undefined],
    ]);
  });
});

describe("the API-key cache", () => {
  let running: AccountsSluice;

  before(async () => {
    running = await startAccountsSluice((upstream) => `
services:
  echo: { upstream: "${upstream}", openapi: false }
`);
  });
  after(() => running.close());

  it("counts a key's first lookup as a miss and the next ones as hits, refusals included", async () => {
    const user = await running.accounts.createUser({ email: "ada@example.com", password: "correct horse battery" });
    const { key } = await running.accounts.apiKeys.create(user.id, { name: "laptop" });
    const unknown = `sk_${"0".repeat(key.length - 3)}`;
    const statuses = [];
    for (const presented of [key, key, key, unknown, unknown]) statuses.push((await running.sluice.call("/api/echo/x", { key: presented })).status);
    assert.deepEqual(statuses, [200, 200, 200, 401, 401]);

    const text = await (await running.sluice.call("/metrics")).text();
    assert.deepEqual(metricLines(text, "sluice_api_key_cache_lookups_total"), [
      'sluice_api_key_cache_lookups_total{result="hit"} 3',
      'sluice_api_key_cache_lookups_total{result="miss"} 2',
    ]);
  });
});
