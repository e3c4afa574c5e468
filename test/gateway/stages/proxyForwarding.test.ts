// Who the upstream is told called, and what a route rewrites. Forwarding headers from a peer
// that is not a trusted proxy are dropped and start afresh at the peer; from a trusted one the
// trusted part of the chain is kept and this hop appended, in X-Forwarded-* and in RFC 7239's
// Forwarded alike. Routes set and remove request and response headers and rewrite path prefixes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../../../src/config/loader.js";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

const KEY = "forwarding-test-key";
const FORGED = {
  "x-forwarded-for": "198.51.100.7, 203.0.113.9",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "api.example.com",
  "forwarded": "for=203.0.113.9;proto=https;host=api.example.com",
};
let upstream: RecordingUpstream;

before(async () => {
  upstream = await startRecordingUpstream((_request, res) => {
    res.writeHead(200, { "content-type": "text/plain", "server": "upstream/1.0", "x-internal": "secret", "cache-control": "no-store" });
    res.end("ok");
  });
});
after(() => upstream.close());

async function received(sluice: TestSluice, path: string, headers: Record<string, string> = {}) {
  const response = await sluice.call(path, { key: KEY, headers });
  await response.text();
  return { response, seen: upstream.received.at(-1)! };
}

function servicesYaml(extra = ""): string {
  return `${extra}
services:
  echo: { upstream: "${upstream.url}/base", openapi: false }
  rewritten:
    upstream: "${upstream.url}/base"
    requestHeaders: { set: { x-env: prod }, remove: [cookie] }
    responseHeaders: { remove: [server] }
    openapi: false
    routes:
      - path: /v1/*
        rewritePrefix: { from: /v1, to: /v2 }
        requestHeaders: { set: { x-version: "1" } }
        responseHeaders: { set: { cache-control: "public, max-age=60" }, remove: [x-internal] }
      - path: /legacy/*
        rewritePrefix: { from: /legacy, to: "" }
      - path: /*
consumers:
  tester: { keys: [${KEY}] }
`;
}

describe("forwarding headers from a client that is not a trusted proxy", () => {
  let sluice: TestSluice;
  before(async () => (sluice = await startTestSluice(servicesYaml())));
  after(() => sluice.close());

  it("drops the client's own and describes the hop from the socket", async () => {
    const { seen } = await received(sluice, "/api/echo/who", FORGED);
    const host = new URL(sluice.url).host;
    assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen.headers["x-forwarded-proto"], "http");
    assert.equal(seen.headers["x-forwarded-host"], host);
    assert.equal(seen.headers["forwarded"], `for=127.0.0.1;host="${host}";proto=http`);
  });
});

describe("forwarding headers from a trusted proxy", () => {
  let sluice: TestSluice;
  before(async () => (sluice = await startTestSluice(servicesYaml("server: { trustedProxies: [loopback] }"))));
  after(() => sluice.close());

  it("keeps the trusted part of the chain and appends this hop", async () => {
    const { seen } = await received(sluice, "/api/echo/who", FORGED);
    const host = new URL(sluice.url).host;
    // 203.0.113.9 is the first address no trusted proxy vouches for: the client; 198.51.100.7 is its claim.
    assert.equal(seen.headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert.equal(seen.headers["x-forwarded-proto"], "https");
    assert.equal(seen.headers["x-forwarded-host"], "api.example.com");
    assert.equal(seen.headers["forwarded"], `for=203.0.113.9;proto=https;host=api.example.com, for=127.0.0.1;host="${host}";proto=http`);
  });

  it("starts the chain at the proxy when it sent none", async () => {
    const { seen } = await received(sluice, "/api/echo/who");
    assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen.headers["x-forwarded-proto"], "http");
  });
});

describe("a route's rewrites", () => {
  let sluice: TestSluice;
  before(async () => (sluice = await startTestSluice(servicesYaml())));
  after(() => sluice.close());

  it("replaces a path prefix, keeping the rest and the query", async () => {
    const { seen } = await received(sluice, "/api/rewritten/v1/items/7?full=1");
    assert.equal(seen.url, "/base/v2/items/7?full=1");
  });

  it("strips a path prefix", async () => {
    const { seen } = await received(sluice, "/api/rewritten/legacy/users");
    assert.equal(seen.url, "/base/users");
  });

  it("sets and removes request headers: the service's on every route, the route's added", async () => {
    const { seen } = await received(sluice, "/api/rewritten/v1/x", { "cookie": "session=1", "x-env": "dev" });
    assert.equal(seen.headers["x-env"], "prod");
    assert.equal(seen.headers["x-version"], "1");
    assert.equal(seen.headers["cookie"], undefined);
    const other = await received(sluice, "/api/rewritten/other", { cookie: "session=1" });
    assert.equal(other.seen.url, "/base/other");
    assert.equal(other.seen.headers["x-version"], undefined);
    assert.equal(other.seen.headers["cookie"], undefined);
  });

  it("sets and removes response headers", async () => {
    const { response } = await received(sluice, "/api/rewritten/v1/x");
    assert.equal(response.headers.get("server"), null);
    assert.equal(response.headers.get("x-internal"), null);
    assert.equal(response.headers.get("cache-control"), "public, max-age=60");
    const plain = await received(sluice, "/api/echo/x");
    assert.equal(plain.response.headers.get("server"), "upstream/1.0");
  });
});

describe("the config of targets and rewrites", () => {
  const parse = (service: string) => () => parseConfig(`services:\n  s: ${service}\n`, "test.yaml");

  it("takes one upstream or a list, never both nor neither", () => {
    assert.deepEqual(parse('{ upstream: "http://a:1/x" }')().services.s!.upstreams, ["http://a:1/x"]);
    assert.equal(parse('{ upstreams: ["http://a:1/x", "http://b:2/x/"] }')().services.s!.upstream, "http://a:1/x");
    assert.throws(parse('{ upstream: "http://a:1", upstreams: ["http://b:1"] }'), /either upstream/);
    assert.throws(parse("{ openapi: false }"), /required field is missing: give upstream/);
  });

  it("refuses targets with different paths: they are replicas of one backend", () => {
    assert.throws(parse('{ upstreams: ["http://a:1/x", "http://b:1/y"] }'), /same path/);
  });

  it("refuses rewriting headers that the gateway owns or that are hop-by-hop", () => {
    assert.throws(parse('{ upstream: "http://a:1", requestHeaders: { set: { x-forwarded-for: "1.2.3.4" } } }'), /cannot be rewritten/);
    assert.throws(parse('{ upstream: "http://a:1", responseHeaders: { remove: [connection] } }'), /cannot be rewritten/);
  });
});
