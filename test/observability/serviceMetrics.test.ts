// The rate-limit service in /metrics, scraped from a running Sluice: decisions of POST
// /v1/ratelimit and of Envoy's ShouldRateLimit by protocol, policy or namespace and outcome, calls
// by status, their latency, and refused tokens; ad-hoc namespaces cannot grow the series without end.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAX_NAMESPACES, OTHER_NAMESPACE } from "../../src/observability/serviceMetrics.js";
import { startServiceSluice, type ServiceSluice } from "../client/serviceSluice.js";
import { envoyRlsClient, type EnvoyRlsClient } from "../service/grpc/envoyRlsClient.js";

const YAML = `
policies:
  emails:
    descriptors:
      - key: identifier
        limit: { algorithm: fixed-window, limit: 2, window: 1m }
  unused:
    descriptors:
      - key: identifier
        limit: { limit: 1, window: 1s }
`;

/** The value of one sample, by its exact name and labels; undefined when /metrics has no such line. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("the rate-limit service in /metrics", () => {
  let sluice: ServiceSluice;
  let rls: EnvoyRlsClient;
  /** POST /v1/ratelimit with the admin token, another token, or none (null). */
  const decide = (body: object, token: string | null = sluice.token) => fetch(`${sluice.url}/v1/ratelimit`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token !== null && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
  const scrape = async () => (await fetch(`${sluice.url}/metrics`)).text();

  before(async () => {
    sluice = await startServiceSluice(YAML, "memory", { grpc: true });
    rls = envoyRlsClient(`127.0.0.1:${sluice.grpcPort}`);
  });
  after(async () => {
    rls.close();
    await sluice.close();
  });

  it("shows the configured policies at zero before any call", async () => {
    const text = await scrape();
    for (const protocol of ["http", "grpc"]) {
      assert.equal(sample(text, `sluice_ratelimit_decisions_total{protocol="${protocol}",policy="unused",namespace="",outcome="limited"}`), 0);
      assert.equal(sample(text, `sluice_ratelimit_token_failures_total{protocol="${protocol}",reason="unknown"}`), 0);
    }
  });

  it("counts HTTP and gRPC decisions by policy or namespace and outcome, calls by status, and their latency", async () => {
    const before = await scrape();
    const count = (text: string, series: string) => sample(text, series) ?? 0;
    // HTTP: a named policy, allowed twice then limited; an ad-hoc limit in namespace "signup"; an unknown policy.
    for (let i = 0; i < 3; i++) assert.equal(await decide({ policy: "emails", identifier: "a" }), 200);
    assert.equal(await decide({ namespace: "signup", identifier: "x", limit: 5, duration: "1m" }), 200);
    assert.equal(await decide({ policy: "nope", identifier: "a" }), 400);
    // gRPC: one allowed, then two over the limit of another identifier; one unknown domain.
    for (let i = 0; i < 3; i++) await rls.shouldRateLimit({ domain: "emails", descriptors: [{ entries: [{ key: "identifier", value: "g" }] }], hits_addend: 1 + i });
    await assert.rejects(rls.shouldRateLimit({ domain: "nope", descriptors: [{ entries: [{ key: "identifier", value: "g" }] }] }));

    const after = await scrape();
    const delta = (series: string) => count(after, series) - count(before, series);
    assert.deepEqual({
      httpAllowed: delta('sluice_ratelimit_decisions_total{protocol="http",policy="emails",namespace="",outcome="allowed"}'),
      httpLimited: delta('sluice_ratelimit_decisions_total{protocol="http",policy="emails",namespace="",outcome="limited"}'),
      adHoc: delta('sluice_ratelimit_decisions_total{protocol="http",policy="",namespace="signup",outcome="allowed"}'),
      grpcAllowed: delta('sluice_ratelimit_decisions_total{protocol="grpc",policy="emails",namespace="",outcome="allowed"}'),
      grpcLimited: delta('sluice_ratelimit_decisions_total{protocol="grpc",policy="emails",namespace="",outcome="limited"}'),
      http200: delta('sluice_ratelimit_requests_total{protocol="http",status="200"}'),
      http400: delta('sluice_ratelimit_requests_total{protocol="http",status="400"}'),
      grpcOk: delta('sluice_ratelimit_requests_total{protocol="grpc",status="OK"}'),
      grpcNotFound: delta('sluice_ratelimit_requests_total{protocol="grpc",status="NOT_FOUND"}'),
      httpTimed: delta('sluice_ratelimit_request_duration_seconds_count{protocol="http"}'),
      grpcTimed: delta('sluice_ratelimit_request_duration_seconds_count{protocol="grpc"}'),
    }, { httpAllowed: 2, httpLimited: 1, adHoc: 1, grpcAllowed: 1, grpcLimited: 2, http200: 4, http400: 1, grpcOk: 3, grpcNotFound: 1, httpTimed: 5, grpcTimed: 4 });
    assert.ok(!after.includes('policy="nope"'), "an unknown policy makes no series");
    assert.equal(count(after, 'sluice_ratelimit_request_duration_seconds_bucket{protocol="grpc",le="+Inf"}'), count(after, 'sluice_ratelimit_request_duration_seconds_count{protocol="grpc"}'));
  });

  it("counts refused tokens by reason, over HTTP and gRPC", async () => {
    const before = await scrape();
    assert.equal(await decide({ policy: "emails", identifier: "t" }, null), 401);
    assert.equal(await decide({ policy: "emails", identifier: "t" }, "made-up-token"), 401);
    await assert.rejects(rls.shouldRateLimit({ domain: "emails", descriptors: [{ entries: [{ key: "identifier", value: "t" }] }] }, { authorization: "Bearer made-up-token" }));
    const after = await scrape();
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    assert.deepEqual(
      [delta('sluice_ratelimit_token_failures_total{protocol="http",reason="missing"}'), delta('sluice_ratelimit_token_failures_total{protocol="http",reason="unknown"}'), delta('sluice_ratelimit_token_failures_total{protocol="grpc",reason="unknown"}')],
      [1, 1, 1],
    );
    assert.equal(delta('sluice_ratelimit_requests_total{protocol="grpc",status="UNAUTHENTICATED"}'), 1);
  });

  it(`gives the first ${MAX_NAMESPACES} ad-hoc namespaces series of their own and counts the rest as ${OTHER_NAMESPACE}`, async () => {
    for (let i = 0; i < MAX_NAMESPACES + 20; i++) assert.equal(await decide({ namespace: `ns-${i}`, identifier: "x", limit: 5, duration: "1m" }), 200);
    const text = await scrape();
    const namespaces = new Set([...text.matchAll(/^sluice_ratelimit_decisions_total\{[^}]*namespace="([^"]+)"/gm)].map((m) => m[1]));
    assert.equal(namespaces.size, MAX_NAMESPACES + 1, "signup, ns-0 … ns-98, and (other)");
    assert.equal(sample(text, `sluice_ratelimit_decisions_total{protocol="http",policy="",namespace="${OTHER_NAMESPACE}",outcome="allowed"}`), 21);
  });
});
