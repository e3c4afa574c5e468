// What crosses the gateway: the upstream sees the request minus the client's credentials and
// hop-by-hop headers, plus who called; the client sees the upstream's answer, streamed, with the
// rate-limit headers; an unreachable or silent upstream becomes a 502 or 504 problem.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { rawRequest } from "../../support/rawRequest.js";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";
import { freePort } from "../../support/freePort.js";

const KEY = "proxy-test-key";
let upstream: RecordingUpstream;
let silent: RecordingUpstream;
let sluice: TestSluice;
let closedPort: number;

before(async () => {
  upstream = await startRecordingUpstream((request, res) => {
    if (request.url.startsWith("/base/hop")) {
      res.writeHead(200, { "content-type": "text/plain", "connection": "x-private", "x-private": "internal", "keep-alive": "timeout=5" });
      res.end("hop");
      return;
    }
    res.writeHead(201, { "content-type": "application/json", "x-upstream": "yes" });
    res.end(JSON.stringify({ method: request.method, url: request.url, sha256: createHash("sha256").update(request.body).digest("hex") }));
  });
  silent = await startRecordingUpstream(() => { /* never answers */ });
  closedPort = await freePort();
  sluice = await startTestSluice(`
limits:
  generous: { limit: 1000, window: 1s }
services:
  echo: { upstream: "${upstream.url}/base", limits: [generous], openapi: false }
  silent: { upstream: "${silent.url}", timeout: 300ms, openapi: false }
  gone: { upstream: "http://127.0.0.1:${closedPort}", openapi: false }
consumers:
  tester: { keys: [${KEY}] }
`);
});
after(async () => {
  await sluice.close();
  await upstream.close();
  await silent.close();
});

describe("the request the upstream receives", () => {
  it("forwards method, the path under the service's base path, and the query", async () => {
    const response = await sluice.call("/api/echo/items/42?sort=asc&x=%20y", { key: KEY, method: "DELETE" });
    assert.equal(response.status, 201);
    const body = (await response.json()) as { method: string; url: string };
    assert.deepEqual([body.method, body.url], ["DELETE", "/base/items/42?sort=asc&x=%20y"]);
  });

  it("never passes on the client's API key, and tells the upstream who called", async () => {
    await (await sluice.call("/api/echo/who", { key: KEY, headers: { "x-consumer-id": "admin" } })).body?.cancel();
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.headers["x-api-key"], undefined);
    assert.equal(seen.headers["x-consumer-id"], "tester");
  });

  it("drops hop-by-hop headers, including those named in Connection", async () => {
    await rawRequest(sluice.url, "/api/echo/hop-request", {
      headers: { "x-api-key": KEY, "connection": "keep-alive, x-secret-hop", "x-secret-hop": "1", "te": "trailers", "x-kept": "1" },
    });
    const seen = upstream.received.at(-1)!;
    assert.equal(seen.headers["x-secret-hop"], undefined);
    assert.equal(seen.headers["te"], undefined);
    assert.equal(seen.headers["x-kept"], "1");
  });

  it("sets X-Forwarded-* and passes a request id on, keeping a well-formed incoming one", async () => {
    await (await sluice.call("/api/echo/fwd", { key: KEY, headers: { "x-request-id": "trace-123", "x-forwarded-for": "203.0.113.9" } })).body?.cancel();
    const seen = upstream.received.at(-1)!;
    // No trusted proxies configured: the client's own X-Forwarded-For is not believed, the chain starts at the peer.
    assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen.headers["x-forwarded-proto"], "http");
    assert.equal(seen.headers["x-forwarded-host"], new URL(sluice.url).host);
    assert.equal(seen.headers["x-request-id"], "trace-123");
  });

  it("replaces a malformed incoming request id with a fresh one, and returns it to the client", async () => {
    const response = await sluice.call("/api/echo/rid", { key: KEY, headers: { "x-request-id": "bad id with spaces" } });
    await response.body?.cancel();
    const id = response.headers.get("x-request-id");
    assert.match(id ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(upstream.received.at(-1)!.headers["x-request-id"], id);
  });

  it("streams a request body of several megabytes through unchanged", async () => {
    const payload = randomBytes(5 * 1024 * 1024);
    const response = await sluice.call("/api/echo/upload", { key: KEY, method: "POST", body: payload, headers: { "content-type": "application/octet-stream" } });
    const body = (await response.json()) as { sha256: string };
    assert.equal(body.sha256, createHash("sha256").update(payload).digest("hex"));
  });
});

describe("the response the client receives", () => {
  it("carries the upstream's status and headers plus the rate-limit headers", async () => {
    const response = await sluice.call("/api/echo/anything", { key: KEY });
    await response.body?.cancel();
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-upstream"), "yes");
    assert.equal(response.headers.get("ratelimit-policy"), '"generous";q=1000;w=1');
    assert.match(response.headers.get("ratelimit") ?? "", /^"generous";r=\d+;t=1$/);
  });

  it("drops the upstream's hop-by-hop headers", async () => {
    const response = await rawRequest(sluice.url, "/api/echo/hop", { headers: { "x-api-key": KEY } });
    assert.equal(response.body, "hop");
    assert.equal(response.headers["x-private"], undefined);
  });

  it("has no rate-limit headers on a service without limits", async () => {
    const response = await rawRequest(sluice.url, "/api/gone/x", { headers: { "x-api-key": KEY } });
    assert.equal(response.headers["ratelimit"], undefined);
  });
});

describe("when the upstream fails", () => {
  it("answers 502 when nothing listens at the upstream", async () => {
    const response = await sluice.call("/api/gone/anything", { key: KEY });
    assert.equal(response.status, 502);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    assert.equal(((await response.json()) as { code: string }).code, "SLUICE_ERR_UPSTREAM_UNAVAILABLE");
  });

  it("answers 504 when the upstream does not answer within the service's timeout", async () => {
    const response = await sluice.call("/api/silent/anything", { key: KEY });
    assert.equal(response.status, 504);
    assert.equal(((await response.json()) as { code: string }).code, "SLUICE_ERR_UPSTREAM_TIMEOUT");
    assert.equal(silent.received.length, 1);
  });
});

