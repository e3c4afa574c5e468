// Slow clients: headers that never finish (slowloris), a body that trickles, a body that stalls,
// and more connections than the server takes. Timeouts are configured in milliseconds here so
// the suite stays fast; the defaults (docs/config.md) are seconds. In every case the connection
// is closed and the upstream never receives a complete request.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { pollUntil } from "../../support/poll.js";
import { KEY, problemCode, request, sendRaw, startHostileBench, upstreamReceivedSince, type HostileBench } from "./hostileHarness.js";

/** `byte` written every `everyMs`, `times` times: enough traffic to never look idle. */
const trickle = (byte: string, everyMs: number, times: number) => Array.from({ length: times }, () => [everyMs, byte]).flat();

describe("slow headers and bodies", () => {
  let bench: HostileBench;
  before(async () => {
    bench = await startHostileBench("headersTimeout: 300ms\nrequestTimeout: 1500ms\nidleTimeout: 600ms");
  });
  after(() => bench.close());

  it("answers 408 to headers that trickle in past headersTimeout (slowloris)", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [`GET /api/echo/slow HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\nx-slow: `, ...trickle("a", 50, 60)]);
    assert.deepEqual(reply.statuses, [408]);
    assert.equal(problemCode(reply), "SLUICE_ERR_REQUEST_TIMEOUT");
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("answers 408 to a body that trickles in past requestTimeout", async () => {
    const before = bench.upstream.received.length;
    const head = `POST /api/echo/slow-body HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\nContent-Length: 100\r\n\r\n`;
    const reply = await sendRaw(bench, [head, ...trickle("b", 100, 60)]);
    assert.deepEqual(reply.statuses, [408]);
    assert.equal(problemCode(reply), "SLUICE_ERR_REQUEST_TIMEOUT");
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("closes a connection whose body stalls for idleTimeout", async () => {
    const before = bench.upstream.received.length;
    const head = `POST /api/echo/stalled HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\nContent-Length: 100\r\n\r\n`;
    const reply = await sendRaw(bench, [head, "only-a-part"]);
    assert.equal(reply.closedByServer, true);
    assert.deepEqual(reply.statuses, []); // cut, not answered: the client went silent
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });

  it("serves a client that sends at an ordinary pace", async () => {
    const before = bench.upstream.received.length;
    const reply = await sendRaw(bench, [request(bench, "/api/echo/paced", "Content-Length: 3\r\n", "POST"), 50, "a", 50, "b", 50, "c"]);
    assert.deepEqual(reply.statuses, [200]);
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.toString(), "abc");
  });
});

describe("maximum connections", () => {
  let bench: HostileBench;
  before(async () => {
    bench = await startHostileBench("maxConnections: 2");
  });
  after(() => bench.close());

  /** A keep-alive connection that has had one request answered, so the server surely counts it. */
  async function heldConnection(): Promise<Socket> {
    const { port } = new URL(bench.sluice.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(`GET /api/echo/held HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    return socket;
  }

  it("closes connections beyond server.maxConnections as they arrive, and takes new ones once some close", async () => {
    const held = [await heldConnection(), await heldConnection()];
    const before = bench.upstream.received.length;
    const refused = await sendRaw(bench, [request(bench, "/api/echo/third")]);
    assert.equal(refused.closedByServer, true);
    assert.deepEqual(refused.statuses, []);
    for (const socket of held) socket.destroy();
    // The server learns of the closes a moment later; until then it still refuses.
    const served = await pollUntil(() => sendRaw(bench, [request(bench, "/api/echo/fourth")]), (reply) => reply.statuses[0] === 200);
    assert.deepEqual(served.statuses, [200]);
    assert.deepEqual(bench.upstream.received.slice(before).map((r) => r.url), ["/fourth"]);
  });
});
