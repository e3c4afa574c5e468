// Routing: /api/{service}/{path} finds the service and, when the service lists routes, the
// route; a path that could mean something else upstream is refused before anything is sent.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { normalizePath } from "../../../src/gateway/requestPath.js";
import { rawRequest } from "../../support/rawRequest.js";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

const KEY = "route-test-key";
const auth = { "x-api-key": KEY };
let upstream: RecordingUpstream;
let sluice: TestSluice;

before(async () => {
  upstream = await startRecordingUpstream();
  sluice = await startTestSluice(`
services:
  open: { upstream: "${upstream.url}", openapi: false }
  shop:
    upstream: "${upstream.url}/shop"
    openapi: false
    routes:
      - { path: /items/*, methods: [GET, POST] }
      - { path: /health }
      - { path: /orders/*, methods: [GET] }
      - { path: /orders/*, methods: [PUT] }
consumers:
  tester: { keys: [${KEY}] }
  shopper: { keys: [shop-only-key], scopes: [shop] }
`);
});
after(async () => {
  await sluice.close();
  await upstream.close();
});

describe("unsafe paths", () => {
  const unsafe = [
    "/api/open/../admin",
    "/api/open/a/./b",
    "/api/open/..",
    "/api/open/%2e%2e/admin",
    "/api/open/%2E%2E/admin",
    "/api/open/a%2fb",
    "/api/open/a%5cb",
    "/api/open/a%00b",
    "/api/open/%252e%252e/admin",
    "/api/open/a\\b",
    "/api/open/..;/admin",
  ];

  for (const path of unsafe) {
    it(`refuses ${path} with 400 and sends nothing upstream`, async () => {
      const before = upstream.received.length;
      const response = await rawRequest(sluice.url, path, { headers: auth });
      assert.equal(response.status, 400);
      assert.equal((JSON.parse(response.body) as { code: string }).code, "SLUICE_ERR_BAD_PATH");
      assert.equal(upstream.received.length, before);
    });
  }

  it("lets ordinary paths through, dots inside names included", () => {
    for (const path of ["/api/open/file.tar.gz", "/api/open/a..b", "/api/open/.well-known/x", "/api/open/%20space", "/api/open/"]) {
      assert.equal(normalizePath(path), path);
    }
  });
});

describe("services", () => {
  it("forwards /api/{service} alone as the upstream's root", async () => {
    const response = await rawRequest(sluice.url, "/api/open", { headers: auth });
    assert.equal(response.status, 200);
    assert.equal((JSON.parse(response.body) as { url: string }).url, "/");
  });

  it("answers /api/ without a service name with 404", async () => {
    const response = await rawRequest(sluice.url, "/api/", { headers: auth });
    assert.equal(response.status, 404);
    assert.equal((JSON.parse(response.body) as { code: string }).code, "SLUICE_ERR_SERVICE_NOT_FOUND");
  });
});

describe("a key with scopes", () => {
  it("reaches the services in its scopes", async () => {
    const response = await fetch(`${sluice.url}/api/shop/health`, { headers: { "x-api-key": "shop-only-key" } });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  it("gets a 403 naming its scopes everywhere else, the same whether the service exists or not", async () => {
    const before = upstream.received.length;
    const bodies: unknown[] = [];
    for (const path of ["/api/open/x", "/api/no-such-service/x"]) {
      const response = await fetch(sluice.url + path, { headers: { "x-api-key": "shop-only-key" } });
      assert.equal(response.status, 403);
      const body = (await response.json()) as { code: string; detail: string };
      assert.equal(body.code, "SLUICE_ERR_KEY_OUT_OF_SCOPE");
      assert.match(body.detail, /only "shop"/);
      bodies.push(body);
    }
    assert.deepEqual(bodies[0], bodies[1], "nothing tells whether the service exists");
    assert.equal(upstream.received.length, before);
  });
});

describe("routes of a service that lists them", () => {
  it("routes a prefix route and everything under it", async () => {
    for (const path of ["/api/shop/items", "/api/shop/items/", "/api/shop/items/7"]) {
      const response = await rawRequest(sluice.url, path, { headers: auth });
      assert.equal(response.status, 200, path);
    }
    assert.equal(upstream.received.at(-1)?.url, "/shop/items/7");
  });

  it("routes an exact route only at its exact path", async () => {
    assert.equal((await rawRequest(sluice.url, "/api/shop/health", { headers: auth })).status, 200);
    const deeper = await rawRequest(sluice.url, "/api/shop/health/deep", { headers: auth });
    assert.equal(deeper.status, 404);
    assert.equal((JSON.parse(deeper.body) as { code: string }).code, "SLUICE_ERR_ROUTE_NOT_FOUND");
  });

  it("does not let a prefix route match a longer name", async () => {
    assert.equal((await rawRequest(sluice.url, "/api/shop/itemsXYZ", { headers: auth })).status, 404);
  });

  it("answers a method the route does not accept with 405 and Allow", async () => {
    const response = await rawRequest(sluice.url, "/api/shop/items/7", { method: "DELETE", headers: auth });
    assert.equal(response.status, 405);
    assert.equal(response.headers["allow"], "GET, POST, HEAD");
    assert.equal((JSON.parse(response.body) as { code: string }).code, "SLUICE_ERR_METHOD_NOT_ALLOWED");
  });

  it("lets two routes on one path split the methods between them", async () => {
    assert.equal((await rawRequest(sluice.url, "/api/shop/orders/1", { method: "PUT", headers: auth })).status, 200);
    const refused = await rawRequest(sluice.url, "/api/shop/orders/1", { method: "POST", headers: auth });
    assert.equal(refused.status, 405);
    assert.equal(refused.headers["allow"], "GET, HEAD, PUT");
  });

  it("answers HEAD wherever it answers GET", async () => {
    const response = await rawRequest(sluice.url, "/api/shop/items/7", { method: "HEAD", headers: auth });
    assert.equal(response.status, 200);
    assert.equal(upstream.received.at(-1)?.method, "HEAD");
  });
});
