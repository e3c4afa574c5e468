// A route's own `maxBodySize` replaces its service's for that route: an upload route may take
// more than the service allows, a JSON route less. A declared body over the route's limit gets
// 413 before it is read, a chunked one as soon as it passes it, and the upstream receives no
// complete request; the service's other routes keep the service's limit.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KEY, problemCode, sendRaw, upstreamReceivedSince, startBenchWith, type HostileBench } from "./hostile/hostileHarness.js";

let bench: HostileBench;
before(async () => {
  bench = await startBenchWith((upstream) => `
server:
  maxBodySize: 1kb
services:
  echo: { upstream: "${upstream}", openapi: false }
  files:
    upstream: "${upstream}/files"
    openapi: false
    maxBodySize: 2kb
    routes:
      - { path: /upload, maxBodySize: 8kb }
      - { path: /json, maxBodySize: 100b }
      - { path: /* }
consumers:
  tester: { keys: [${KEY}] }
`);
});
after(() => bench.close());

const post = (target: string, headers: string) => `POST ${target} HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\n${headers}\r\n`;
const chunk = (size: number) => `${size.toString(16)}\r\n${"x".repeat(size)}\r\n`;

describe("a route with a smaller limit than its service (/json: 100b, service: 2kb)", () => {
  it("refuses a declared body the service would accept, before it is sent", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/files/json", "Content-Length: 101\r\n")]);
    assert.deepEqual(reply.statuses, [413]);
    assert.equal(problemCode(reply), "SLUICE_ERR_PAYLOAD_TOO_LARGE");
    assert.match(reply.body, /larger than the 100 bytes this route accepts/);
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("refuses a chunked body once it passes the route's limit", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/files/json", "Transfer-Encoding: chunked\r\n"), chunk(60), chunk(60), "0\r\n\r\n"]);
    assert.deepEqual(reply.statuses, [413]);
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("forwards a body of exactly its limit", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/files/json", "Content-Length: 100\r\nConnection: close\r\n"), "j".repeat(100)]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.length, 100);
  });
});

describe("a route with a larger limit than its service (/upload: 8kb, service: 2kb)", () => {
  it("accepts a declared body the service would refuse", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/files/upload", "Content-Length: 6000\r\nConnection: close\r\n"), "u".repeat(6000)]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.length, 6000);
  });

  it("accepts a chunked body the service would refuse", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/files/upload", "Transfer-Encoding: chunked\r\nConnection: close\r\n"), chunk(3000), chunk(3000), "0\r\n\r\n"]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.length, 6000);
  });

  it("still refuses what passes its own limit", async () => {
    const reply = await sendRaw(bench, [post("/api/files/upload", "Content-Length: 8193\r\n")]);
    assert.deepEqual(reply.statuses, [413]);
    assert.match(reply.body, /8192 bytes/);
  });
});

describe("a route without a limit of its own", () => {
  it("keeps its service's limit (2kb), not the server's (1kb)", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/files/other", "Content-Length: 2048\r\nConnection: close\r\n"), "o".repeat(2048)]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.length, 2048);
    const over = await sendRaw(bench, [post("/api/files/other", "Content-Length: 2049\r\n")]);
    assert.deepEqual(over.statuses, [413]);
    assert.match(over.body, /2048 bytes/);
  });
});
