// Hop-by-hop tricks: a client names headers in `Connection` hoping a hop strips what the gateway
// relies on or adds (the API key it was checked with, the consumer id, the forwarding headers),
// or sends connection-level headers (Upgrade, TE, Proxy-*) hoping they reach the upstream. The
// gateway's own headers survive, the client's connection-level ones never pass.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ReceivedRequest } from "../../support/recordingUpstream.js";
import { request, sendRaw, startHostileBench, upstreamReceivedSince, type HostileBench } from "./hostileHarness.js";

let bench: HostileBench;
before(async () => {
  bench = await startHostileBench();
});
after(() => bench.close());

/** Sends one request with extra header lines and returns what the upstream received for it. */
async function forwarded(extra: string, target = "/api/echo/hop"): Promise<{ status: number | undefined; received: ReceivedRequest }> {
  const before = bench.upstream.received.length;
  // `request` already says "Connection: close"; a second Connection header joins it (node joins them with ", ").
  const reply = await sendRaw(bench, [request(bench, target, extra)]);
  const received = await upstreamReceivedSince(bench, before);
  assert.equal(received.length, 1, `expected the request upstream once: ${reply.raw.slice(0, 300)}`);
  return { status: reply.statuses[0], received: received[0]! };
}

describe("headers named in Connection", () => {
  it("Connection: x-api-key neither skips authentication nor lets the key through", async () => {
    const { status, received } = await forwarded("Connection: x-api-key\r\n");
    assert.equal(status, 200);
    assert.equal(received.headers["x-api-key"], undefined);
    assert.equal(received.headers["x-consumer-id"], "tester");
  });

  it("Connection: x-api-key without a key is still refused", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [`GET /api/echo/hop HTTP/1.1\r\nHost: ${bench.authority}\r\nConnection: close, x-api-key\r\n\r\n`]);
    assert.deepEqual(reply.statuses, [401]);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("Connection: x-consumer-id cannot strip or forge the consumer the gateway vouches for", async () => {
    const { received } = await forwarded("Connection: x-consumer-id\r\nx-consumer-id: admin\r\n");
    assert.equal(received.headers["x-consumer-id"], "tester");
  });

  it("Connection: close, x-forwarded-for cannot strip or forge the forwarding headers", async () => {
    const { received } = await forwarded("Connection: close, x-forwarded-for, forwarded, x-request-id\r\nX-Forwarded-For: 203.0.113.9\r\nForwarded: for=203.0.113.9\r\n");
    assert.equal(received.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(received.headers.forwarded?.startsWith("for=127.0.0.1;"), true);
    assert.match(String(received.headers["x-request-id"]), /^[\w.:-]+$/);
  });

  it("drops an ordinary header the client named in Connection", async () => {
    const { received } = await forwarded("Connection: keep-alive, x-private\r\nx-private: secret\r\nx-public: kept\r\n");
    assert.equal(received.headers["x-private"], undefined);
    assert.equal(received.headers["x-public"], "kept");
  });
});

describe("connection-level headers", () => {
  for (const [name, line] of [
    ["te", "TE: trailers, deflate\r\n"],
    ["proxy-connection", "Proxy-Connection: keep-alive\r\n"],
    ["proxy-authorization", "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"],
    ["keep-alive", "Keep-Alive: timeout=600\r\n"],
    ["trailer", "Trailer: x-checksum\r\n"],
  ] as const) {
    it(`never forwards ${name}`, async () => {
      const { status, received } = await forwarded(line);
      assert.equal(status, 200);
      assert.equal(received.headers[name], undefined);
    });
  }

  it("serves an Upgrade to a service without WebSockets as a plain request, without Upgrade upstream", async () => {
    const { status, received } = await forwarded("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    assert.equal(status, 200);
    assert.equal(received.headers.upgrade, undefined);
    assert.doesNotMatch(String(received.headers.connection), /upgrade/i);
  });
});
