// OpenTelemetry traces, end to end: a real gateway in front of a real upstream exports its spans
// to a real OTLP/HTTP receiver (a node:http server decoding the JSON it is posted). A request's
// spans join the client's trace; each stage that ran has its span, a refusal is written on the
// refusing stage's; the upstream is told the gateway's CLIENT span as its parent; the API key and
// the query string are never exported. With tracing off, nothing is exported and trace headers
// pass as they came. Spans are flushed by the gateway's shutdown, never waited for.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../../src/config/loader.js";
import { createLogger } from "../../src/observability/logger.js";
import { startSluice, type RunningSluice } from "../../src/sluice.js";
import { capturingLogger } from "../support/logCapture.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { TEST_REDIS_URL, uniquePrefix } from "../support/redis.js";
import { freePort as closedPort } from "../support/freePort.js";

const KEY = "alice-secret-key-0001";
const WRONG_KEY = "mallory-guessed-key-9";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID = "00f067aa0ba902b7";
/** OTLP's span kinds, as numbers in its JSON. */
const KIND = { internal: 1, server: 2, client: 3 } as const;
const STATUS_ERROR = 2;

interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** A collector: POST /v1/traces with OTLP JSON; keeps the raw bodies and the spans; answers `status`. */
async function startOtlpReceiver(status = 200) {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") return void res.writeHead(404).end();
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(status, { "content-type": "application/json" }).end(status === 200 ? "{}" : '{"code":3,"message":"refused by the test"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const exports = () => bodies.map((body) => JSON.parse(body) as OtlpExport);
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    bodies,
    exports,
    spans: () => exports().flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A span's attributes as a plain object (OTLP JSON sends int64 as a string or a number). */
function attributesOf(span: OtlpSpan): Record<string, string | number | boolean | undefined> {
  return Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, value.stringValue ?? (value.intValue === undefined ? value.boolValue ?? value.doubleValue : Number(value.intValue))]));
}

const yamlFor = (upstream: string, tracing: string, moreServices = "") => `
${tracing}
limits:
  tight: { algorithm: fixed-window, limit: 1, window: 1m, by: [consumer] }
services:
  shop:
    upstream: "${upstream}"
    openapi: false
    routes:
      - { path: "/items/:id", methods: [GET] }
      - { path: "/orders", limits: [tight] }
${moreServices}
consumers:
  alice: { keys: [${KEY}] }
`;

async function startGateway(yaml: string, logger = createLogger("silent"), redisUrl?: string): Promise<RunningSluice> {
  const config = parseConfig(yaml, "test.yaml");
  return startSluice({ config: { ...config, server: { ...config.server, host: "127.0.0.1", port: 0 } }, logger, redisUrl });
}

async function call(sluice: RunningSluice, path: string, headers: Record<string, string>): Promise<Response> {
  const response = await fetch(sluice.url + path, { headers });
  await response.arrayBuffer();
  return response;
}

describe("traces of gateway requests, exported to an OTLP/HTTP collector", () => {
  let upstream: RecordingUpstream;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const responses = new Map<string, Response>();
  /** The spans of the request sent with this x-request-id: its server span and the spans under it. */
  const spansOf = (requestId: string) => {
    const spans = receiver.spans();
    const server = spans.find((s) => s.kind === KIND.server && attributesOf(s)["sluice.request_id"] === requestId);
    assert.ok(server, `no server span for ${requestId}`);
    const children = spans.filter((s) => s.parentSpanId === server.spanId);
    const stage = (name: string) => children.find((s) => s.name === name && s.kind === KIND.internal);
    return { server, children, stage, client: children.find((s) => s.kind === KIND.client) };
  };

  before(async () => {
    upstream = await startRecordingUpstream();
    receiver = await startOtlpReceiver();
    const sluice = await startGateway(yamlFor(upstream.url, `tracing: { endpoint: "${receiver.endpoint}", serviceName: shop-gateway }`));
    try {
      responses.set("traced", await call(sluice, "/api/shop/items/7?token=query-secret-value", {
        "x-api-key": KEY, "x-request-id": "traced", traceparent: `00-${TRACE_ID}-${CLIENT_SPAN_ID}-01`, tracestate: "vendor=opaque",
      }));
      responses.set("no-key", await call(sluice, "/api/shop/items/7", { "x-request-id": "no-key" }));
      responses.set("wrong-key", await call(sluice, "/api/shop/items/7", { "x-api-key": WRONG_KEY, "x-request-id": "wrong-key" }));
      responses.set("first-order", await call(sluice, "/api/shop/orders", { "x-api-key": KEY, "x-request-id": "first-order" }));
      responses.set("second-order", await call(sluice, "/api/shop/orders", { "x-api-key": KEY, "x-request-id": "second-order" }));
      responses.set("unsampled", await call(sluice, "/api/shop/items/8", { "x-api-key": KEY, "x-request-id": "unsampled", traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-00` }));
    } finally {
      await sluice.close(); // flushes the spans: the receiver has them once this resolves
    }
  });

  after(async () => {
    await Promise.all([upstream.close(), receiver.close()]);
  });

  it("answers as without tracing", () => {
    assert.deepEqual([...responses.values()].map((r) => r.status), [200, 401, 401, 200, 429, 200]);
  });

  it("puts a request's spans in the client's trace, under its span, with the service's name", () => {
    const { server, children } = spansOf("traced");
    assert.equal(server.traceId, TRACE_ID);
    assert.equal(server.parentSpanId, CLIENT_SPAN_ID);
    for (const child of children) assert.equal(child.traceId, TRACE_ID);
    assert.equal(server.name, "GET shop:0");
    const resource = receiver.exports()[0]!.resourceSpans[0]!.resource!.attributes!;
    assert.deepEqual(resource.find((a) => a.key === "service.name")?.value, { stringValue: "shop-gateway" });
  });

  it("describes the request on the server span, never with its key or query string", () => {
    const { server } = spansOf("traced");
    const attributes = attributesOf(server);
    assert.equal(attributes["http.request.method"], "GET");
    assert.equal(attributes["http.route"], "/api/shop/items/:id");
    assert.equal(attributes["url.path"], "/api/shop/items/7");
    assert.equal(attributes["http.response.status_code"], 200);
    assert.equal(attributes["client.address"], "127.0.0.1");
    assert.equal(attributes["sluice.consumer.id"], "alice");
    assert.equal(attributes["sluice.route"], "shop:0");
    assert.notEqual(server.status?.code, STATUS_ERROR);
    const payload = receiver.bodies.join("\n");
    for (const secret of [KEY, WRONG_KEY, "query-secret-value", "token="]) assert.ok(!payload.includes(secret), `the export holds ${secret}`);
  });

  it("gives each stage that ran a span under the server span, in pipeline order", () => {
    const { children, stage } = spansOf("traced");
    const stages = children.filter((s) => s.kind === KIND.internal).map((s) => s.name);
    assert.deepEqual(stages.sort(), ["authenticate", "identify", "limit", "proxy", "route", "shed"]);
    assert.equal(attributesOf(stage("authenticate")!)["sluice.consumer.id"], "alice");
    assert.equal(attributesOf(stage("route")!)["sluice.route"], "shop:0");
    for (const name of stages) assert.equal(attributesOf(stage(name)!)["sluice.stage.outcome"], "continued");
  });

  it("sends the upstream a traceparent naming the CLIENT span, the client's tracestate kept", () => {
    const { client } = spansOf("traced");
    assert.ok(client, "no CLIENT span");
    const received = upstream.received.find((r) => r.headers["x-request-id"] === "traced")!;
    assert.equal(received.headers.traceparent, `00-${TRACE_ID}-${client.spanId}-01`);
    assert.equal(received.headers.tracestate, "vendor=opaque");
    const attributes = attributesOf(client);
    assert.equal(attributes["http.response.status_code"], 200);
    assert.equal(attributes["sluice.upstream.origin"], upstream.url);
    assert.equal(attributes["server.address"], "127.0.0.1");
    assert.equal(attributes["server.port"], Number(new URL(upstream.url).port));
    assert.equal(attributes["http.request.resend_count"], undefined);
  });

  it("writes a 401 on the authenticate span, and no stage after it runs", () => {
    for (const requestId of ["no-key", "wrong-key"]) {
      const { server, children, stage } = spansOf(requestId);
      const attributes = attributesOf(stage("authenticate")!);
      assert.equal(attributes["sluice.stage.outcome"], "refused");
      assert.equal(attributes["sluice.problem"], "SLUICE_ERR_UNAUTHORIZED");
      assert.equal(attributes["http.response.status_code"], 401);
      assert.deepEqual(children.map((s) => s.name).sort(), ["authenticate", "identify", "shed"]);
      assert.equal(attributesOf(server)["http.response.status_code"], 401);
      assert.equal(attributesOf(server)["sluice.problem"], "SLUICE_ERR_UNAUTHORIZED");
      assert.notEqual(server.status?.code, STATUS_ERROR, "a 4xx is not a server error");
    }
  });

  it("writes a 429 on the limit span: the limiter's outcome and the limit that refused", () => {
    assert.equal(attributesOf(spansOf("first-order").stage("limit")!)["sluice.limiter.outcome"], "allowed");
    const { children, stage } = spansOf("second-order");
    const attributes = attributesOf(stage("limit")!);
    assert.equal(attributes["sluice.stage.outcome"], "refused");
    assert.equal(attributes["sluice.limiter.outcome"], "limited");
    assert.equal(attributes["sluice.limiter.limit"], "tight");
    assert.equal(attributes["sluice.problem"], "SLUICE_ERR_RATE_LIMITED");
    assert.equal(children.find((s) => s.kind === KIND.client), undefined, "a refused request calls no upstream");
  });

  it("exports nothing of a trace the client did not sample, yet never forwards its traceparent as it came", () => {
    assert.equal(receiver.spans().filter((s) => s.traceId === "1".repeat(32)).length, 0);
    const received = upstream.received.find((r) => r.headers["x-request-id"] === "unsampled")!;
    const [version, traceId, parentId, flags] = String(received.headers.traceparent).split("-");
    assert.deepEqual([version, traceId, flags], ["00", "1".repeat(32), "00"]);
    assert.notEqual(parentId, "2".repeat(16));
  });
});

describe("a stage that answers later (limits in Redis), traced", () => {
  it("spans the limit stage until its answer, admitted or refused", async () => {
    const upstream = await startRecordingUpstream();
    const receiver = await startOtlpReceiver();
    const sluice = await startGateway(`limiter: { store: redis, keyPrefix: "${uniquePrefix()}", timeout: 1s }\n${yamlFor(upstream.url, `tracing: { endpoint: "${receiver.endpoint}" }`)}`, undefined, TEST_REDIS_URL);
    try {
      assert.equal((await call(sluice, "/api/shop/orders", { "x-api-key": KEY, "x-request-id": "admitted" })).status, 200);
      assert.equal((await call(sluice, "/api/shop/orders", { "x-api-key": KEY, "x-request-id": "refused" })).status, 429);
    } finally {
      await sluice.close();
      await upstream.close();
    }
    await receiver.close();
    const spans = receiver.spans();
    const limitOf = (requestId: string) => {
      const server = spans.find((s) => s.kind === KIND.server && attributesOf(s)["sluice.request_id"] === requestId)!;
      return spans.find((s) => s.parentSpanId === server.spanId && s.name === "limit")!;
    };
    assert.deepEqual(
      [attributesOf(limitOf("admitted"))["sluice.stage.outcome"], attributesOf(limitOf("admitted"))["sluice.limiter.outcome"]],
      ["continued", "allowed"],
    );
    const refused = attributesOf(limitOf("refused"));
    assert.deepEqual([refused["sluice.stage.outcome"], refused["sluice.limiter.outcome"], refused["sluice.limiter.limit"], refused["sluice.problem"]],
      ["refused", "limited", "tight", "SLUICE_ERR_RATE_LIMITED"]);
  });
});

describe("upstream failures, traced", () => {
  it("marks a 5xx on the server and CLIENT spans as errors", async () => {
    const upstream = await startRecordingUpstream((_request, res) => res.writeHead(503).end("down"));
    const receiver = await startOtlpReceiver();
    const sluice = await startGateway(yamlFor(upstream.url, `tracing: { endpoint: "${receiver.endpoint}" }`));
    try {
      assert.equal((await call(sluice, "/api/shop/items/1", { "x-api-key": KEY, "x-request-id": "broken" })).status, 503);
    } finally {
      await sluice.close();
      await upstream.close();
    }
    await receiver.close();
    const spans = receiver.spans();
    const server = spans.find((s) => s.kind === KIND.server)!;
    const client = spans.find((s) => s.kind === KIND.client)!;
    assert.equal(server.status?.code, STATUS_ERROR);
    assert.equal(attributesOf(server)["error.type"], "503");
    assert.equal(client.status?.code, STATUS_ERROR);
    assert.equal(attributesOf(client)["http.response.status_code"], 503);
    assert.equal(client.parentSpanId, server.spanId);
  });

  it("marks an unreachable upstream on the CLIENT span, and counts a retry on another target", async () => {
    const gone = await closedPort();
    const upstream = await startRecordingUpstream();
    const receiver = await startOtlpReceiver();
    const sluice = await startGateway(yamlFor(upstream.url, `tracing: { endpoint: "${receiver.endpoint}" }`, `
  retried: { upstreams: ["http://127.0.0.1:${gone}", "${upstream.url}"], openapi: false }
  unreachable: { upstream: "http://127.0.0.1:${gone}", openapi: false }`));
    try {
      assert.equal((await call(sluice, "/api/unreachable/x", { "x-api-key": KEY })).status, 502);
      // Round robin: one of two requests goes to the closed port first, and is retried on the other target.
      for (let i = 0; i < 2; i++) assert.equal((await call(sluice, "/api/retried/x", { "x-api-key": KEY })).status, 200);
    } finally {
      await sluice.close();
      await upstream.close();
    }
    await receiver.close();
    const clients = receiver.spans().filter((s) => s.kind === KIND.client);
    const unreachable = clients.find((s) => attributesOf(s)["server.port"] === gone && attributesOf(s)["http.request.resend_count"] === undefined)!;
    assert.equal(attributesOf(unreachable)["error.type"], "SLUICE_ERR_UPSTREAM_UNAVAILABLE");
    assert.equal(unreachable.status?.code, STATUS_ERROR);
    const retried = clients.find((s) => attributesOf(s)["http.request.resend_count"] === 1);
    assert.ok(retried, "no CLIENT span counts a retry");
    assert.equal(attributesOf(retried)["sluice.upstream.origin"], upstream.url);
    assert.equal(attributesOf(retried)["http.response.status_code"], 200);
  });
});

describe("tracing off (the default)", () => {
  it("exports nothing and passes trace headers as the client sent them", async () => {
    const upstream = await startRecordingUpstream();
    const receiver = await startOtlpReceiver();
    const sluice = await startGateway(yamlFor(upstream.url, ""));
    try {
      await call(sluice, "/api/shop/items/1", { "x-api-key": KEY, "x-request-id": "plain" });
      await call(sluice, "/api/shop/items/1", { "x-api-key": KEY, "x-request-id": "carried", traceparent: `00-${TRACE_ID}-${CLIENT_SPAN_ID}-01`, tracestate: "vendor=opaque" });
    } finally {
      await sluice.close();
      await upstream.close();
    }
    await receiver.close();
    assert.equal(receiver.bodies.length, 0);
    const plain = upstream.received.find((r) => r.headers["x-request-id"] === "plain")!;
    assert.equal(plain.headers.traceparent, undefined);
    assert.equal(plain.headers.tracestate, undefined);
    const carried = upstream.received.find((r) => r.headers["x-request-id"] === "carried")!;
    assert.equal(carried.headers.traceparent, `00-${TRACE_ID}-${CLIENT_SPAN_ID}-01`);
    assert.equal(carried.headers.tracestate, "vendor=opaque");
  });
});

describe("a collector that refuses the spans", () => {
  it("fails no request and is logged once at warn, however many exports fail", async () => {
    const upstream = await startRecordingUpstream();
    const receiver = await startOtlpReceiver(400);
    const { logger, lines } = capturingLogger();
    const sluice = await startGateway(yamlFor(upstream.url, `tracing: { endpoint: "${receiver.endpoint}", headers: { authorization: "Bearer collector-token" } }`), logger);
    const statuses: number[] = [];
    try {
      // 100 requests make about 700 spans: one batch of 512 is exported at once, the rest at shutdown.
      for (let i = 0; i < 100; i++) statuses.push((await call(sluice, "/api/shop/items/1", { "x-api-key": KEY })).status);
    } finally {
      await sluice.close();
      await upstream.close();
    }
    await receiver.close();
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.ok(receiver.bodies.length >= 2, `${receiver.bodies.length} exports`);
    const warnings = lines().filter((line) => line["level"] === 40 && String(line["msg"]).startsWith("could not export traces"));
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!["endpoint"], receiver.endpoint);
    assert.ok(!JSON.stringify(lines()).includes("collector-token"), "the collector's headers are never logged");
  });
});

describe("the tracing config", () => {
  it("is off when omitted, and defaults the service name and sample ratio", () => {
    assert.equal(parseConfig("").tracing, undefined);
    assert.deepEqual(parseConfig('tracing: { endpoint: "http://127.0.0.1:4318/v1/traces" }').tracing, { endpoint: "http://127.0.0.1:4318/v1/traces", serviceName: "sluice", sampleRatio: 1 });
  });

  it("refuses a ratio outside 0..1, an endpoint that is not http(s), and unknown fields", () => {
    assert.throws(() => parseConfig('tracing: { endpoint: "http://127.0.0.1:4318/v1/traces", sampleRatio: 1.5 }'), /sampleRatio/);
    assert.throws(() => parseConfig('tracing: { endpoint: "grpc://127.0.0.1:4317" }'), /endpoint/);
    assert.throws(() => parseConfig('tracing: { endpoint: "http://127.0.0.1:4318/v1/traces", exporter: grpc }'), /exporter/);
  });
});
