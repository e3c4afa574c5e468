// Long-lived exchanges through the gateway: a WebSocket on a route that allows it is upgraded
// end to end after the usual authentication and limits, and server-sent events reach the client
// as they are written, for longer than the body timeout as long as events keep coming.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

const KEY = "streaming-test-key";
let upstream: Server;
let sockets: WebSocketServer;
let sluice: TestSluice;
/** Resolves the upstream's pending SSE stream's next event. */
let sendNext: (() => void) | undefined;
const upgradeHeaders: IncomingMessage["headers"][] = [];

function serveEvents(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  if (req.url === "/events/ticking") {
    // Ten events 100 ms apart: a second in all, never silent for the 300 ms body timeout.
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`data: tick ${++sent}\n\n`);
      if (sent === 10) {
        clearInterval(timer);
        res.end();
      }
    }, 100);
    return;
  }
  res.write("data: first\n\n");
  // The second event waits for the test: it proves the first arrived while the stream was still open.
  sendNext = () => res.end("data: second\n\n");
}

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url?.startsWith("/events")) serveEvents(req, res);
    else res.writeHead(426, { "content-type": "text/plain" }).end("upgrade required");
  });
  sockets = new WebSocketServer({ server: upstream });
  sockets.on("connection", (socket, req) => {
    upgradeHeaders.push(req.headers);
    socket.on("message", (data: Buffer, binary) => socket.send(binary ? data : `echo: ${data.toString()}`));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  sluice = await startTestSluice(`
limits:
  two-sockets: { algorithm: concurrency, limit: 2 }
services:
  live:
    upstream: "${url}"
    bodyTimeout: 300ms
    openapi: false
    routes:
      - { path: /socket, websocket: true, limits: [two-sockets] }
      - { path: /events/* }
      - { path: /plain }
consumers:
  tester: { keys: [${KEY}] }
`);
});
after(async () => {
  await sluice.close();
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

function connect(path: string, key: string | null = KEY): WebSocket {
  return new WebSocket(sluice.url.replace(/^http/, "ws") + path, { headers: key === null ? {} : { "x-api-key": key } });
}

/** The status the gateway answered a refused upgrade with. */
async function refusal(socket: WebSocket): Promise<number> {
  const [, response] = (await once(socket, "unexpected-response")) as [unknown, IncomingMessage];
  response.resume();
  return response.statusCode ?? 0;
}

describe("WebSocket", () => {
  it("echoes text and binary messages through the gateway", async () => {
    const socket = connect("/api/live/socket");
    await once(socket, "open");
    socket.send("hello");
    const [text] = (await once(socket, "message")) as [Buffer];
    assert.equal(String(text), "echo: hello");
    socket.send(Buffer.from([1, 2, 3]));
    const [binary] = (await once(socket, "message")) as [Buffer];
    assert.deepEqual([...binary], [1, 2, 3]);
    socket.close();
    await once(socket, "close");
  });

  it("passes the handshake on without the client's key, with the forwarding headers", () => {
    const seen = upgradeHeaders.at(-1)!;
    assert.equal(seen["x-api-key"], undefined);
    assert.equal(seen["x-consumer-id"], "tester");
    assert.equal(seen["x-forwarded-for"], "127.0.0.1");
    assert.equal(seen.upgrade, "websocket");
  });

  it("refuses an upgrade without a key with the gateway's 401", async () => {
    assert.equal(await refusal(connect("/api/live/socket", null)), 401);
  });

  it("counts open sockets against a concurrency limit, and frees the slot when one closes", async () => {
    const first = connect("/api/live/socket");
    const second = connect("/api/live/socket");
    await Promise.all([once(first, "open"), once(second, "open")]);
    assert.equal(await refusal(connect("/api/live/socket")), 429);
    first.close();
    await once(first, "close");
    let third = connect("/api/live/socket");
    // The gateway sees the close a moment after the client: ask again until the slot is free.
    for (let i = 0; i < 50 && (await Promise.race([once(third, "open").then(() => true), once(third, "unexpected-response").then(() => false)])) === false; i++) {
      third = connect("/api/live/socket");
    }
    assert.equal(third.readyState, WebSocket.OPEN);
    second.close();
    third.close();
    await Promise.all([once(second, "close"), once(third, "close")]);
  });

  it("does not upgrade on a route that does not allow it: the upstream answers a plain request", async () => {
    assert.equal(await refusal(connect("/api/live/plain")), 426);
  });
});

describe("shutdown with a WebSocket open", () => {
  it("waits for it up to the shutdown timeout, then cuts it", async () => {
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const own = await startTestSluice(`
server: { shutdownTimeout: 200ms }
services:
  live: { upstream: "${url}", websocket: true, openapi: false }
consumers:
  tester: { keys: [${KEY}] }
`);
    const socket = new WebSocket(own.url.replace(/^http/, "ws") + "/api/live/socket", { headers: { "x-api-key": KEY } });
    await once(socket, "open");
    const closed = once(socket, "close");
    await own.close();
    await closed;
    assert.equal(socket.readyState, WebSocket.CLOSED);
  });
});

describe("server-sent events", () => {
  it("reach the client as they are written, not when the stream ends", async () => {
    const response = await sluice.call("/api/live/events/now", { key: KEY });
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("\n\n")) text += decoder.decode((await reader.read()).value);
    assert.equal(text, "data: first\n\n");
    sendNext!();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value);
    assert.equal(text, "data: first\n\ndata: second\n\n");
  });

  it("outlast the body timeout while events keep coming", async () => {
    const response = await sluice.call("/api/live/events/ticking", { key: KEY });
    const text = await response.text();
    assert.equal(text.split("\n\n").filter(Boolean).length, 10);
  });
});
