// Paths over a raw socket: a path that could mean something else to the upstream than to the
// gateway is refused before anything is forwarded, and an accepted path reaches the upstream
// exactly as the gateway routed it (normalized: src/gateway/requestPath.ts). The query string
// passes untouched.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { problemCode, request, sendRaw, startHostileBench, upstreamReceivedSince, type HostileBench } from "./hostileHarness.js";

let bench: HostileBench;
before(async () => {
  bench = await startHostileBench();
});
after(() => bench.close());

const TRAVERSALS = [
  "/api/shop/items/../admin",
  "/api/shop/items/./x",
  "/api/shop/items/..",
  "/api/shop/items/%2e%2e/admin",
  "/api/shop/items/%2E%2e/admin",
  "/api/shop/items/.%2e/admin",
  "/api/shop/items/%252e%252e/admin",
  "/api/shop/items%2f..%2fadmin",
  "/api/shop/items%2F..%2Fadmin",
  "/api/shop/items/..%5cadmin",
  "/api/shop/items\\..\\admin",
  "/api/shop/items/..;/admin",
  "/api/shop/items/.;/admin",
  "/api/shop/items/..%3b/admin",
  "/api/shop/items/a%00.json",
  "/api/shop/items/a%0d%0aX-Injected:%20yes",
  "/api/shop/items/%zz",
  "/api/shop/items/a#/../../admin",
  "/api/echo/..",
];

describe("traversal", () => {
  for (const path of TRAVERSALS) {
    it(`refuses ${path} with 400 bad-path and forwards nothing`, async () => {
      const before = bench.upstream.received.length;
      const reply = await sendRaw(bench, [request(bench, path)]);
      assert.deepEqual(reply.statuses, [400], reply.raw);
      assert.equal(problemCode(reply), "SLUICE_ERR_BAD_PATH");
      assert.deepEqual(await upstreamReceivedSince(bench, before), []);
    });
  }

  // Bytes no request target may hold never get as far as the gateway: node's parser refuses them.
  for (const [what, path] of [["a raw NUL", "/api/echo/a\0b"], ["a tab", "/api/echo/a\tb"], ["a byte above 0x7F", "/api/echo/caf\xe9"]] as const) {
    it(`refuses a request target with ${what} with 400 bad-request`, async () => {
      const before = bench.upstream.received.length;
      const reply = await sendRaw(bench, [request(bench, path)]);
      assert.deepEqual(reply.statuses, [400]);
      assert.equal(problemCode(reply), "SLUICE_ERR_BAD_REQUEST");
      assert.deepEqual(await upstreamReceivedSince(bench, before), []);
    });
  }
});

describe("normalized paths: routed and forwarded as one", () => {
  const FORWARDED = [
    ["/api/shop//items//1", "/shop/items/1"],
    ["/api//shop/items/1", "/shop/items/1"],
    ["/api/shop/items/%61%62c", "/shop/items/abc"],
    ["/api/shop/items/caf%c3%a9", "/shop/items/caf%C3%A9"],
    ["/api/shop/items/file.tar.gz", "/shop/items/file.tar.gz"],
    ["/api/shop/items/v1;a=b", "/shop/items/v1;a=b"],
    ["/api/echo/a?path=../../etc/passwd&x=%2e%2e%2f&y=%00", "/a?path=../../etc/passwd&x=%2e%2e%2f&y=%00"],
    ["/api/echo/search?q=a//b", "/search?q=a//b"],
  ] as const;

  for (const [sent, expected] of FORWARDED) {
    it(`forwards ${sent} as ${expected}`, async () => {
      const before = bench.upstream.received.length;
      const reply = await sendRaw(bench, [request(bench, sent)]);
      assert.deepEqual(reply.statuses, [200], reply.raw);
      assert.deepEqual((await upstreamReceivedSince(bench, before)).map((r) => r.url), [expected]);
    });
  }

  it("routes an encoded spelling of a GET-only route like the route itself (405 for POST)", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [request(bench, "/api/shop/%61dmin", "Content-Length: 0\r\n", "POST")]);
    assert.deepEqual(reply.statuses, [405]);
    assert.equal(problemCode(reply), "SLUICE_ERR_METHOD_NOT_ALLOWED");
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("routes a doubled slash to the route it collapses to", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [request(bench, "/api/shop//admin")]);
    assert.deepEqual(reply.statuses, [200]);
    assert.deepEqual((await upstreamReceivedSince(bench, before)).map((r) => r.url), ["/shop/admin"]);
  });

  it("matches a prefix route at a segment boundary only: /items-not/x is not under /items/*", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [request(bench, "/api/shop/items-not/x")]);
    assert.deepEqual(reply.statuses, [404]);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });
});
