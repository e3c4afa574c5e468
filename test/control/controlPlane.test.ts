// The control plane beside the gateway: liveness and readiness (its status for everyone, its
// details for the admin token, read from the health checks' state without asking any upstream),
// Prometheus metrics, the OpenAPI document built from what the upstreams publish, the interactive
// docs, and a page behind every problem type.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { problems } from "../../src/problems/catalogue.js";
import { pollUntil } from "../support/poll.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { DEMO_YAML, startTestSluice, type TestSluice } from "../support/testSluice.js";

type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { tags?: string[]; security?: unknown[]; responses: Record<string, unknown>; parameters?: unknown[] }>>;
  components: { securitySchemes: Record<string, unknown> };
};

const ADMIN_TOKEN = "control-plane-admin-token";
const asAdmin = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } };

let sluice: TestSluice;
let doomed: RecordingUpstream;
let degraded: TestSluice;

before(async () => {
  sluice = await startTestSluice(DEMO_YAML, { adminToken: ADMIN_TOKEN });
  doomed = await startRecordingUpstream();
  // Health checks every 50 ms; one failure takes a target out.
  degraded = await startTestSluice(`
services:
  alive: { upstream: "demo://users" }
  doomed:
    upstream: "${doomed.url}"
    openapi: false
    healthCheck: { path: /health, interval: 50ms, unhealthyThreshold: 1 }
`, { adminToken: ADMIN_TOKEN });
});
after(async () => {
  await sluice.close();
  await degraded.close();
  await doomed.close(); // already closed by the readiness test unless it failed early
});

describe("health", () => {
  it("answers /healthz while the process is up", async () => {
    const response = await sluice.call("/healthz");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok" });
  });

  it("tells anyone whether it is ready, and nothing more: no service names", async () => {
    for (const headers of [{}, { authorization: "Bearer not-the-token" }]) {
      const response = await sluice.call("/readyz", { headers });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: "ready" });
    }
  });

  it("gives the admin token the details: each service, the limiter store", async () => {
    const response = await sluice.call("/readyz", asAdmin);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      status: "ready",
      config: "loaded",
      services: { users: "reachable", recommend: "reachable", random: "reachable" },
      limiterStore: "reachable",
    });
  });

  it("asks no upstream: twenty readiness checks send nothing to the services but their health checks", async () => {
    const before = doomed.received.length;
    for (let i = 0; i < 20; i++) assert.equal((await degraded.call("/readyz", asAdmin)).status, 200);
    assert.deepEqual(doomed.received.slice(before).filter((r) => r.url !== "/health").map((r) => `${r.method} ${r.url}`), []);
  });

  it("is not ready, and says which service, once every target of a service fails its health check", async () => {
    assert.equal((await degraded.call("/readyz")).status, 200);
    await doomed.close();
    const response = await pollUntil(async () => (await delay(20), degraded.call("/readyz", asAdmin)), (r) => r.status === 503, 10_000);
    assert.equal(response.status, 503);
    const body = (await response.json()) as { services: unknown; reasons: unknown };
    assert.deepEqual(body.services, { alive: "reachable", doomed: "unreachable" });
    assert.deepEqual(body.reasons, ['service "doomed" is unreachable: every target failed its health check or was ejected']);
    assert.deepEqual(await (await degraded.call("/readyz")).json(), { status: "not ready" }, "the public learns no more");
  });
});

describe("metrics", () => {
  it("serves the instance's metrics in the Prometheus text format, every configured limit at zero before traffic", async () => {
    const response = await sluice.call("/metrics");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const lines = (await response.text()).split("\n");
    for (const limit of ["per-client", "random-per-minute"]) {
      assert.ok(lines.includes(`sluice_limiter_decisions_total{limit="${limit}",outcome="allowed"} 0`), limit);
      assert.ok(lines.includes(`sluice_limiter_decisions_total{limit="${limit}",outcome="limited"} 0`), limit);
    }
    assert.ok(lines.includes("sluice_limiter_store_degraded 0"));
    assert.ok(lines.includes("# TYPE process_resident_memory_bytes gauge"));
  });
});

describe("the OpenAPI document", () => {
  let doc: OpenApi;
  before(async () => {
    const response = await sluice.call("/openapi.json");
    assert.equal(response.status, 200);
    doc = (await response.json()) as OpenApi;
  });

  it("is OpenAPI 3.1 with an API-key scheme on x-api-key", () => {
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(doc.components.securitySchemes["apiKey"], { type: "apiKey", in: "header", name: "x-api-key" });
  });

  it("lists every demo endpoint as reached through the gateway", () => {
    assert.deepEqual(Object.keys(doc.paths).sort(), [
      "/api/random/number",
      "/api/recommend/recommend/{id}",
      "/api/users/users/{id}",
      "/healthz",
      "/readyz",
      "/v1/ratelimit",
      "/v1/ratelimit/reset",
    ]);
  });

  it("keeps each service's own description of an operation and adds the gateway's answers", () => {
    const operation = doc.paths["/api/random/number"]!["get"]!;
    assert.deepEqual(operation.tags, ["random"]);
    assert.deepEqual(operation.security, [{ apiKey: [] }]);
    assert.ok(operation.parameters?.length === 2, "min and max come from the random-number service");
    for (const status of ["200", "400", "401", "429", "502", "504"]) assert.ok(status in operation.responses, status);
  });

  it("marks the gateway's own endpoints as public", () => {
    assert.deepEqual(doc.paths["/healthz"]!["get"]!.security, []);
  });

  it("describes a service without a document of its own by a catch-all path", async () => {
    const response = await degraded.call("/openapi.json");
    const paths = Object.keys(((await response.json()) as OpenApi).paths);
    assert.ok(paths.includes("/api/doomed/{path}"), paths.join(", "));
    assert.ok(paths.includes("/api/alive/users/{id}"), paths.join(", "));
  });
});

describe("interactive docs", () => {
  it("serves Swagger UI at /docs, fed with the gateway's document", async () => {
    const page = await sluice.call("/docs/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const spec = (await (await sluice.call("/docs/json")).json()) as OpenApi;
    assert.ok("/api/users/users/{id}" in spec.paths);
  });

  it("sends / to the docs", async () => {
    const response = await sluice.call("/", { redirect: "manual" });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), "/docs");
  });
});

describe("problem types", () => {
  it("serves a page for every problem type in the catalogue", async () => {
    for (const kind of Object.values(problems)) {
      const response = await sluice.call(`/problems/${kind.slug}`);
      assert.equal(response.status, 200, kind.slug);
      assert.ok((await response.text()).includes(kind.code), kind.slug);
    }
  });

  it("answers an unknown control-plane path with a 404 problem", async () => {
    const response = await sluice.call("/nothing-here");
    assert.equal(response.status, 404);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
  });
});
