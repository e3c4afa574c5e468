// Oversized input: a body larger than the service accepts gets 413 — before a byte of it is read
// when it declares its length, as soon as the limit is passed when it is chunked — and headers
// larger than server.maxHeaderSize get 431; each closes the connection and the upstream never
// receives a complete request.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KEY, problemCode, request, sendRaw, startHostileBench, upstreamReceivedSince, type HostileBench } from "./hostileHarness.js";

let bench: HostileBench;
before(async () => {
  bench = await startHostileBench("maxHeaderSize: 4kb"); // maxBodySize: 1kb, and 4kb for the service "big"
});
after(() => bench.close());

const post = (target: string, headers: string) => `POST ${target} HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\n${headers}\r\n`;
const chunk = (size: number) => `${size.toString(16)}\r\n${"x".repeat(size)}\r\n`;

describe("declared bodies (Content-Length)", () => {
  it("refuses a body declared over the limit with 413 before it is sent", async () => {
    const before = bench.upstream.received.length;
    // Only the head is written: the answer must not wait for the body.
    const reply = await sendRaw(bench, [post("/api/echo/upload", "Content-Length: 1025\r\n")]);
    assert.deepEqual(reply.statuses, [413]);
    assert.equal(problemCode(reply), "SLUICE_ERR_PAYLOAD_TOO_LARGE");
    assert.equal(reply.headers.connection, "close");
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("refuses an absurd Content-Length the same way", async () => {
    const reply = await sendRaw(bench, [post("/api/echo/upload", "Content-Length: 999999999999999\r\n")]);
    assert.deepEqual(reply.statuses, [413]);
    assert.equal(reply.closedByServer, true);
  });

  it("forwards a body of exactly the limit, whole", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/echo/upload", "Content-Length: 1024\r\nConnection: close\r\n"), "y".repeat(1024)]);
    assert.deepEqual(reply.statuses, [200]);
    const [received] = await upstreamReceivedSince(bench, before);
    assert.equal(received?.body.length, 1024);
  });

  it("applies a service's own limit (big: 4kb) instead of the server's", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/big/upload", "Content-Length: 3000\r\nConnection: close\r\n"), "z".repeat(3000)]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.length, 3000);
    const over = await sendRaw(bench, [post("/api/big/upload", "Content-Length: 4097\r\n")]);
    assert.deepEqual(over.statuses, [413]);
  });
});

describe("refused requests with a body", () => {
  it("closes the connection instead of draining an unread body (401 for a huge upload without a key)", async () => {
    const reply = await sendRaw(bench, [`POST /api/echo/upload HTTP/1.1\r\nHost: ${bench.authority}\r\nContent-Length: 999999999999\r\n\r\npartial`]);
    assert.deepEqual(reply.statuses, [401]);
    assert.equal(reply.headers.connection, "close");
    assert.equal(reply.closedByServer, true);
  });

  it("keeps the connection of a refused request without a body", async () => {
    const get = `GET /api/echo/x HTTP/1.1\r\nHost: ${bench.authority}\r\n\r\n`;
    const reply = await sendRaw(bench, [get, `${get.slice(0, -2)}Connection: close\r\n\r\n`]);
    assert.deepEqual(reply.statuses, [401, 401]);
  });
});

describe("chunked bodies", () => {
  it("answers 413 once the chunks pass the limit, and the upstream never gets a complete request", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/echo/upload", "Transfer-Encoding: chunked\r\n"), chunk(600), chunk(600), chunk(600)]);
    assert.deepEqual(reply.statuses, [413]);
    assert.equal(problemCode(reply), "SLUICE_ERR_PAYLOAD_TOO_LARGE");
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("forwards chunks that stay within the limit", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [post("/api/echo/upload", "Transfer-Encoding: chunked\r\nConnection: close\r\n"), chunk(500), chunk(524), "0\r\n\r\n"]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.length, 1024);
  });
});

describe("headers", () => {
  it("answers 431 with a problem document when the headers pass server.maxHeaderSize", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [request(bench, "/api/echo/big-headers", `x-filler: ${"h".repeat(5_000)}\r\n`)]);
    assert.deepEqual(reply.statuses, [431]);
    assert.equal(problemCode(reply), "SLUICE_ERR_HEADERS_TOO_LARGE");
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("answers 431 for many small headers adding up, too", async () => {
    const reply = await sendRaw(bench, [request(bench, "/api/echo/many-headers", Array.from({ length: 800 }, (_, i) => `x-h${i}: v\r\n`).join(""))]);
    assert.deepEqual(reply.statuses, [431]);
  });

  it("forwards headers within the limit", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [request(bench, "/api/echo/fits", `x-filler: ${"h".repeat(3_000)}\r\n`)]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.headers["x-filler"]?.length, 3_000);
  });
});
