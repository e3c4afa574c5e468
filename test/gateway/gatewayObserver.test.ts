// Every gateway request ends in one place, however it ends: proxied, refused, failed, or left by
// its client. There it is counted by service, route and status class, timed whole and upstream,
// and written as one access log line: request id, consumer (never the key), route, status,
// durations and what the limits decided.
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../../src/config/loader.js";
import type { Verdict } from "../../src/limiter/decision.js";
import type { Policy } from "../../src/limiter/policy.js";
import { requestOutcome } from "../../src/gateway/gatewayObserver.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { metricLines } from "../support/metricLines.js";
import { pollUntil } from "../support/poll.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { freePort as closedPort } from "../support/freePort.js";

const KEY = "alice-key-0001";
/** Lets I/O run between two looks at something only I/O changes. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A Sluice whose log lines the test reads back, as parsed JSON and as the raw text. */
async function startLoggedSluice(yaml: string): Promise<{ sluice: RunningSluice; lines: () => Record<string, unknown>[]; raw: () => string }> {
  const chunks: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _encoding, done) { chunks.push(chunk.toString()); done(); } });
  const config = parseConfig(yaml, "test.yaml");
  const sluice = await startSluice({ config: { ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } }, logger: createLogger(config.log.level, sink) });
  const raw = () => chunks.join("");
  return { sluice, raw, lines: () => raw().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("a gateway observed", () => {
  let upstream: RecordingUpstream;
  let sluice: RunningSluice;
  let lines: () => Record<string, unknown>[];
  let raw: () => string;
  let gonePort: number;
  /** Responses the slow route holds until the test lets them go. */
  const held: ServerResponse[] = [];
  const call = async (path: string, init: RequestInit & { key?: string | undefined } = {}) => {
    const { key, ...rest } = init;
    const response = await fetch(sluice.url + path, { ...rest, headers: key === undefined ? {} : { "x-api-key": key } });
    await response.arrayBuffer();
    return response;
  };
  const scrape = async () => (await fetch(`${sluice.url}/metrics`)).text();
  /** The scrape once `line` shows in it: 'close' may run a moment after the client has its answer. */
  const scrapeWith = (line: string) => pollUntil(scrape, (text) => text.split("\n").includes(line));
  const accessLines = () => lines().filter((line) => line["msg"] === "request");
  const accessLineOf = (response: Response) => accessLines().find((line) => line["requestId"] === response.headers.get("x-request-id"));

  before(async () => {
    gonePort = await closedPort();
    upstream = await startRecordingUpstream((request, res) => {
      if (request.url === "/fail") res.writeHead(500).end("upstream broke");
      else if (request.url === "/slow") held.push(res);
      else res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
    ({ sluice, lines, raw } = await startLoggedSluice(`
limits:
  tight: { algorithm: fixed-window, limit: 1, window: 1m, by: [consumer] }
  watching: { algorithm: fixed-window, limit: 1, window: 1m, by: [consumer], shadow: true }
services:
  shop:
    upstream: "${upstream.url}"
    openapi: false
    routes:
      - { path: "/items/:id", methods: [GET] }
      - { path: "/orders", limits: [tight] }
      - { path: "/watched", limits: [watching] }
      - { path: "/fail" }
      - { path: "/slow" }
  gone: { upstream: "http://127.0.0.1:${gonePort}", openapi: false, circuitBreaker: { failures: 1 } }
consumers:
  alice: { keys: [${KEY}] }
`));
  });
  after(async () => {
    for (const res of held) res.end();
    await sluice.close();
    await upstream.close();
  });

  it("shows every configured route at zero before its first request", async () => {
    const text = await scrape();
    assert.deepEqual(metricLines(text, 'sluice_gateway_requests_total{service="shop",route="shop:0"'), [
      'sluice_gateway_requests_total{service="shop",route="shop:0",status="aborted"} 0',
      'sluice_gateway_requests_total{service="shop",route="shop:0",status="2xx"} 0',
      'sluice_gateway_requests_total{service="shop",route="shop:0",status="3xx"} 0',
      'sluice_gateway_requests_total{service="shop",route="shop:0",status="4xx"} 0',
      'sluice_gateway_requests_total{service="shop",route="shop:0",status="5xx"} 0',
    ]);
    assert.deepEqual(metricLines(text, 'sluice_gateway_request_duration_seconds_count{service="gone"'), ['sluice_gateway_request_duration_seconds_count{service="gone",route="gone:*"} 0']);
  });

  it("counts requests by service, route id and status class, and the problems the gateway answered by code", async () => {
    const statuses = [];
    for (const [path, key, method] of [
      ["/api/shop/items/7", KEY, "GET"],
      ["/api/shop/fail", KEY, "GET"], // the upstream's 500: counted, but no problem of ours
      ["/api/shop/items/7", undefined, "GET"], // no key: refused before any service is known
      ["/api/nowhere/x", KEY, "GET"], // no such service: its name is never a label
      ["/api/shop/nothing", KEY, "GET"], // the service, but none of its routes
      ["/api/shop/items/7", KEY, "DELETE"],
      ["/api/shop/orders", KEY, "GET"],
      ["/api/shop/orders", KEY, "GET"],
      ["/api/gone/anything", KEY, "GET"],
    ] as const) statuses.push((await call(path, { key, method })).status);
    assert.deepEqual(statuses, [200, 500, 401, 404, 404, 405, 200, 429, 502]);

    const text = await scrapeWith('sluice_gateway_requests_total{service="gone",route="gone:*",status="5xx"} 1');
    assert.deepEqual(metricLines(text, "sluice_gateway_requests_total").filter((l) => !l.endsWith(" 0")), [
      'sluice_gateway_requests_total{service="shop",route="shop:0",status="2xx"} 1',
      'sluice_gateway_requests_total{service="shop",route="shop:1",status="2xx"} 1',
      'sluice_gateway_requests_total{service="shop",route="shop:1",status="4xx"} 1',
      'sluice_gateway_requests_total{service="shop",route="shop:3",status="5xx"} 1',
      'sluice_gateway_requests_total{service="gone",route="gone:*",status="5xx"} 1',
      'sluice_gateway_requests_total{service="-",route="-",status="4xx"} 2',
      'sluice_gateway_requests_total{service="shop",route="-",status="4xx"} 2',
    ]);
    assert.deepEqual(metricLines(text, "sluice_gateway_problems_total"), [
      'sluice_gateway_problems_total{service="shop",status="429",code="SLUICE_ERR_RATE_LIMITED"} 1',
      'sluice_gateway_problems_total{service="gone",status="502",code="SLUICE_ERR_UPSTREAM_UNAVAILABLE"} 1',
      'sluice_gateway_problems_total{service="-",status="401",code="SLUICE_ERR_UNAUTHORIZED"} 1',
      'sluice_gateway_problems_total{service="-",status="404",code="SLUICE_ERR_SERVICE_NOT_FOUND"} 1',
      'sluice_gateway_problems_total{service="shop",status="404",code="SLUICE_ERR_ROUTE_NOT_FOUND"} 1',
      'sluice_gateway_problems_total{service="shop",status="405",code="SLUICE_ERR_METHOD_NOT_ALLOWED"} 1',
    ]);
  });

  it("times every request whole, and the upstream only when it answered", async () => {
    const text = await scrape();
    const whole = metricLines(text, 'sluice_gateway_request_duration_seconds_count{service="shop",route="shop:1"}');
    assert.deepEqual(whole, ['sluice_gateway_request_duration_seconds_count{service="shop",route="shop:1"} 2'], "the admitted request and the refused one");
    assert.deepEqual(metricLines(text, 'sluice_gateway_request_duration_seconds_bucket{service="shop",route="shop:1",le="+Inf"}'), ['sluice_gateway_request_duration_seconds_bucket{service="shop",route="shop:1",le="+Inf"} 2']);
    assert.deepEqual(metricLines(text, "sluice_gateway_upstream_duration_seconds_count").filter((l) => !l.endsWith(" 0")), [
      'sluice_gateway_upstream_duration_seconds_count{service="shop",route="shop:0"} 1',
      'sluice_gateway_upstream_duration_seconds_count{service="shop",route="shop:1"} 1',
      'sluice_gateway_upstream_duration_seconds_count{service="shop",route="shop:3"} 1',
    ]);
    assert.equal(metricLines(text, 'sluice_gateway_upstream_duration_seconds_count{service="-"').length, 0, "unmatched requests never reach an upstream");

    // Buckets are cumulative and end at the count; the sum is positive.
    const buckets = metricLines(text, 'sluice_gateway_request_duration_seconds_bucket{service="shop",route="shop:0",').map((l) => Number(l.split(" ")[1]));
    assert.equal(buckets.length, 15);
    assert.deepEqual([...buckets].sort((a, b) => a - b), buckets);
    assert.equal(buckets.at(-1), 1);
    const [sum] = metricLines(text, 'sluice_gateway_request_duration_seconds_sum{service="shop",route="shop:0"}').map((l) => Number(l.split(" ")[1]));
    assert.ok(sum! > 0);
  });

  it("shows each upstream target healthy, and one its circuit breaker ejected unhealthy", async () => {
    const text = await scrape();
    assert.deepEqual(metricLines(text, "sluice_upstream_healthy{"), [
      `sluice_upstream_healthy{service="shop",target="${new URL(upstream.url).origin}"} 1`,
      `sluice_upstream_healthy{service="gone",target="http://127.0.0.1:${gonePort}"} 0`,
    ]);
  });

  it("writes one access line per request, with the consumer's id and never the key or the query", async () => {
    const response = await call("/api/shop/items/7?token=do-not-log", { key: KEY });
    const line = await pollUntil(async () => (await nextTurn(), accessLineOf(response)), (found) => found !== undefined);
    assert.ok(line !== undefined);
    const { time, durationMs, upstreamMs, ...fields } = line;
    assert.deepEqual(fields, {
      level: 30,
      name: "sluice",
      service: "shop",
      route: "shop:0",
      requestId: response.headers.get("x-request-id"),
      clientIp: "127.0.0.1",
      consumer: "alice",
      method: "GET",
      path: "/api/shop/items/7",
      status: 200,
      msg: "request",
    });
    assert.equal(typeof time, "number");
    assert.ok(typeof durationMs === "number" && typeof upstreamMs === "number" && upstreamMs <= durationMs, `${String(upstreamMs)} ≤ ${String(durationMs)}`);
    assert.ok(!raw().includes(KEY), "no line holds the API key");
    assert.ok(!raw().includes("do-not-log"), "no line holds the query string");
  });

  it("logs what the limits decided: allowed, limited by which limit, or only a shadow limit's refusal", async () => {
    const first = await call("/api/shop/watched", { key: KEY });
    const second = await call("/api/shop/watched", { key: KEY });
    const refused = await call("/api/shop/orders", { key: KEY });
    assert.deepEqual([first.status, second.status, refused.status], [200, 200, 429]);
    await pollUntil(async () => (await nextTurn(), accessLineOf(refused)), (found) => found !== undefined);
    const pick = (response: Response) => {
      const line = accessLineOf(response)!;
      return { limiter: line["limiter"], limit: line["limit"], status: line["status"], problem: line["problem"] };
    };
    assert.deepEqual(pick(first), { limiter: "allowed", limit: undefined, status: 200, problem: undefined });
    assert.deepEqual(pick(second), { limiter: "shadow_limited", limit: "watching", status: 200, problem: undefined });
    assert.deepEqual(pick(refused), { limiter: "limited", limit: "tight", status: 429, problem: "SLUICE_ERR_RATE_LIMITED" });
    assert.equal(accessLineOf(refused)!["upstreamMs"], undefined, "a refused request never reached the upstream");
  });

  it("counts and logs a request whose client left before the upstream answered as aborted", async () => {
    const controller = new AbortController();
    const pending = fetch(`${sluice.url}/api/shop/slow`, { headers: { "x-api-key": KEY }, signal: controller.signal }).catch((error: unknown) => error);
    await pollUntil(async () => (await nextTurn(), held.length), (n) => n === 1);
    controller.abort();
    await pending;
    const text = await scrapeWith('sluice_gateway_requests_total{service="shop",route="shop:4",status="aborted"} 1');
    assert.deepEqual(metricLines(text, 'sluice_gateway_requests_total{service="shop",route="shop:4"').filter((l) => !l.endsWith(" 0")), [
      'sluice_gateway_requests_total{service="shop",route="shop:4",status="aborted"} 1',
    ]);
    const line = accessLines().find((l) => l["route"] === "shop:4");
    assert.ok(line !== undefined);
    assert.equal(line["aborted"], true);
    assert.equal(line["status"], undefined, "no status was sent");
  });
});

describe("the access log, switched off", () => {
  let upstream: RecordingUpstream;
  let logged: Awaited<ReturnType<typeof startLoggedSluice>>;

  before(async () => {
    upstream = await startRecordingUpstream();
    logged = await startLoggedSluice(`
log: { access: false }
services:
  echo: { upstream: "${upstream.url}", openapi: false }
consumers:
  alice: { keys: [${KEY}] }
`);
  });
  after(async () => {
    await logged.sluice.close();
    await upstream.close();
  });

  it("writes no line per request, and the metrics still count it", async () => {
    const response = await fetch(`${logged.sluice.url}/api/echo/x`, { headers: { "x-api-key": KEY } });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
    const line = 'sluice_gateway_requests_total{service="echo",route="echo:*",status="2xx"} 1';
    const text = await pollUntil(async () => (await fetch(`${logged.sluice.url}/metrics`)).text(), (t) => t.split("\n").includes(line));
    assert.ok(text.split("\n").includes(line));
    assert.deepEqual(logged.lines().filter((l) => l["msg"] === "request"), []);
    assert.ok(logged.lines().some((l) => l["msg"] === "sluice is listening"), "other lines are still written");
  });
});

describe("a request's limiter outcome", () => {
  const policy = (name: string, extra: Partial<Policy> = {}): Policy => ({ name, algorithm: "fixed-window", limit: 1, windowMs: 60_000, ...extra } as Policy);
  const decision = (p: Policy, allowed: boolean, reason?: "store-unavailable", retryAfterMs = 1_000) => ({ policy: p, allowed, limit: 1, remaining: 0, resetAt: 0, ...(!allowed && { retryAfterMs }), ...(reason && { reason }) });
  const verdict = (decisions: ReturnType<typeof decision>[], via?: Verdict["via"]): Verdict => ({ allowed: decisions.every((d) => d.allowed || d.policy.shadow === true), decisions, now: 0, ...(via && { via }) });

  it("is the binding limit's outcome when refused, else a shadow limit's, else the failure mode that admitted it", () => {
    const open = policy("open", { onStoreFailure: "open" });
    const closed = policy("closed", { onStoreFailure: "closed" });
    const local = policy("local", { onStoreFailure: "local" });
    const shadow = policy("shadow", { shadow: true });
    assert.deepEqual(requestOutcome(verdict([decision(open, true)])), { outcome: "allowed" });
    assert.deepEqual(requestOutcome(verdict([decision(shadow, false), decision(open, false)])), { outcome: "limited", limit: "open" });
    const longer = policy("longer");
    assert.deepEqual(requestOutcome(verdict([decision(open, false, undefined, 1_000), decision(longer, false, undefined, 9_000)])), { outcome: "limited", limit: "longer" }, "the one whose wait Retry-After tells");
    assert.deepEqual(requestOutcome(verdict([decision(open, true), decision(shadow, false)])), { outcome: "shadow_limited", limit: "shadow" });
    assert.deepEqual(requestOutcome(verdict([decision(open, true), decision(closed, false, "store-unavailable")], "store-failure")), { outcome: "store_failure_closed", limit: "closed" });
    assert.deepEqual(requestOutcome(verdict([decision(local, false)], "store-failure")), { outcome: "store_failure_local", limit: "local" });
    assert.deepEqual(requestOutcome(verdict([decision(open, true), decision(local, true)], "store-failure")), { outcome: "store_failure_local" });
    assert.deepEqual(requestOutcome(verdict([decision(open, true)], "store-failure")), { outcome: "store_failure_open" });
  });
});
