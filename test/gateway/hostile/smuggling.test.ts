// Request smuggling: messages whose length or target two HTTP implementations could read
// differently. Each is refused with 400 and a problem document, the connection is closed (where
// the next request would start is unknowable), and the upstream receives nothing. Most shapes
// are refused by node's strict parser (src/edge/clientErrors.ts answers), the rest by the
// identify stage (src/edge/requestFraming.ts).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KEY, problemCode, request, sendRaw, startHostileBench, upstreamReceivedSince, type HostileBench } from "./hostileHarness.js";

let bench: HostileBench;
before(async () => {
  bench = await startHostileBench();
});
after(() => bench.close());

/** A request head with the test key and no `Connection: close`: closing must be the gateway's idea. */
const head = (lines: string, requestLine = "POST /api/echo/in HTTP/1.1") => `${requestLine}\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\n${lines}`;
const SMUGGLED = "GET /api/shop/admin HTTP/1.1\r\nHost: x\r\n\r\n";

const REFUSED: ReadonlyArray<readonly [string, () => string]> = [
  ["Content-Length with Transfer-Encoding (CL.TE)", () => head(`Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`)],
  ["Transfer-Encoding with Content-Length (TE.CL)", () => head(`Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${SMUGGLED}\r\n0\r\n\r\n`)],
  ["two Content-Lengths that differ", () => head("Content-Length: 4\r\nContent-Length: 40\r\n\r\nabcd")],
  ["two equal Content-Lengths", () => head("Content-Length: 4\r\nContent-Length: 4\r\n\r\nabcd")],
  ["a Content-Length list", () => head("Content-Length: 4, 4\r\n\r\nabcd")],
  ["a signed Content-Length", () => head("Content-Length: +4\r\n\r\nabcd")],
  ["a negative Content-Length", () => head("Content-Length: -1\r\n\r\n")],
  ["Transfer-Encoding not ending in chunked", () => head("Transfer-Encoding: gzip\r\n\r\nabcd")],
  ["Transfer-Encoding: gzip, chunked (a coding the body would lose)", () => head("Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")],
  ["Transfer-Encoding: xchunked", () => head("Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n")],
  ["Transfer-Encoding twice", () => head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")],
  ["whitespace before the colon", () => head("Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n")],
  ["an obs-fold continuation line", () => head("X-Note: a\r\n folded\r\nContent-Length: 0\r\n\r\n")],
  ["a bare LF ending a header line", () => head("X-Note: a\nContent-Length: 0\r\n\r\n")],
  ["a bare CR inside a header line", () => head("X-Note: a\rContent-Length: 0\r\n\r\n")],
  ["a NUL in a header value", () => head("X-Note: a\0b\r\nContent-Length: 0\r\n\r\n")],
  ["a header line without a colon", () => head("X-Note\r\nContent-Length: 0\r\n\r\n")],
  ["a malformed chunk size", () => head("Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n")],
  ["a chunk ended by a bare LF", () => head("Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n")],
  ["two Host headers", () => head("Host: evil.example\r\n\r\n", "GET /api/echo/in HTTP/1.1")],
  ["an HTTP/2.0 request line", () => head("\r\n", "GET /api/echo/in HTTP/2.0")],
  ["a lower-case method", () => head("\r\n", "get /api/echo/in HTTP/1.1")],
  ["a control character in the request target", () => head("\r\n", "GET /api/echo/a\x01b HTTP/1.1")],
];

describe("smuggling shapes", () => {
  for (const [what, bytes] of REFUSED) {
    it(`refuses ${what}: 400, connection closed, nothing upstream`, async () => {
      const before = bench.upstream.received.length;
      const reply = await sendRaw(bench, [bytes()]);
      assert.deepEqual(reply.statuses, [400], reply.raw);
      assert.equal(problemCode(reply), "SLUICE_ERR_BAD_REQUEST");
      assert.equal(reply.headers.connection, "close");
      assert.equal(reply.closedByServer, true);
      assert.deepEqual(await upstreamReceivedSince(bench, before), []);
    });
  }

  it("forwards a plain chunked body, de-chunked and whole", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [head("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")]);
    assert.deepEqual(reply.statuses, [200]);
    const [received] = await upstreamReceivedSince(bench, before);
    assert.equal(received?.url, "/in");
    assert.equal(received?.body.toString(), "abcde");
  });
});

describe("request targets and methods the gateway does not proxy", () => {
  // node answers this one itself (requireHostHeader), before any handler: a bare 400, no problem document.
  it("refuses HTTP/1.1 without Host: 400, connection closed, nothing upstream", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [`GET /api/echo/in HTTP/1.1\r\nx-api-key: ${KEY}\r\n\r\n`]);
    assert.deepEqual(reply.statuses, [400]);
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("does not proxy an absolute-form target, even one naming /api/", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [request(bench, "http://evil.example/api/echo/in")]);
    assert.equal(reply.statuses.length, 1);
    assert.ok(reply.statuses[0]! >= 400 && reply.statuses[0]! < 500, reply.raw);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("refuses a CONNECT with 405 and tunnels nothing", async () => {
    const before = bench.upstream.received.length;
    const upstreamPort = new URL(bench.upstream.url).port;
    const reply = await sendRaw(bench, [`CONNECT 127.0.0.1:${upstreamPort} HTTP/1.1\r\nHost: 127.0.0.1:${upstreamPort}\r\nx-api-key: ${KEY}\r\n\r\nGET /tunnelled HTTP/1.1\r\nHost: x\r\n\r\n`]);
    assert.deepEqual(reply.statuses, [405]);
    assert.equal(problemCode(reply), "SLUICE_ERR_METHOD_NOT_ALLOWED");
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });
});

describe("Expect: 100-continue", () => {
  it("continues, then forwards the body", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [head("Expect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"), "hello"]);
    assert.deepEqual(reply.statuses, [100, 200]);
    const [received] = await upstreamReceivedSince(bench, before);
    assert.equal(received?.body.toString(), "hello");
  });

  it("answers any other expectation with 417 and forwards nothing", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [head("Expect: something-else\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")]);
    assert.deepEqual(reply.statuses, [417]);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });
});
