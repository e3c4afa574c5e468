// Draining a real node:http server's keep-alive connections, with one undici client connection
// standing for a client's pool: once draining, every response says `Connection: close`; after
// the listener has closed, a request the client sends on its idle kept-alive connection is still
// answered (node's own close() would have destroyed that connection under it); a new connection
// is refused; and close() resolves once the last connection has gone, an idle one at the end of
// the window.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, it } from "node:test";
import { Client } from "undici";
import { connectionDrain, type ConnectionDrain } from "../../src/edge/connectionDrain.js";

describe("connectionDrain", () => {
  let server: Server;
  let drain: ConnectionDrain;
  let origin: string;
  let clients: Client[];
  beforeEach(async () => {
    server = createServer({ keepAliveTimeout: 60_000 }, (_req, res) => res.end("ok"));
    drain = connectionDrain(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    clients = [];
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.destroy()));
    server.closeAllConnections();
    server.close();
  });

  /** One kept-alive connection, as a client's pool holds it. */
  const keptAlive = () => {
    const client = new Client(origin, { pipelining: 1, keepAliveTimeout: 60_000 });
    clients.push(client);
    return client;
  };
  const get = async (client: Client) => {
    const response = await client.request({ method: "GET", path: "/" });
    await response.body.text();
    return { status: response.statusCode, connection: response.headers["connection"] };
  };

  it("asks every client to close its connection after the response, once draining", async () => {
    const client = keptAlive();
    assert.deepEqual(await get(client), { status: 200, connection: "keep-alive" });
    drain.start();
    assert.deepEqual(await get(client), { status: 200, connection: "close" });
    assert.deepEqual(await get(client), { status: 200, connection: "close" }, "the client opened a new connection, also told to close");
  });

  it("answers a request sent on an idle kept-alive connection after the listener has closed, and refuses new connections", async () => {
    const client = keptAlive();
    await get(client); // the connection is now idle and kept alive
    drain.start();
    const closed = drain.close(60_000);
    assert.deepEqual(await get(client), { status: 200, connection: "close" }, "node's server.close() would have destroyed the idle connection under this request");
    await closed;
    await assert.rejects(get(keptAlive()), { code: "ECONNREFUSED" });
  });

  it("closes what stays idle at the end of the window, and resolves once no connection is left", async () => {
    const client = keptAlive();
    await get(client);
    let resolved = false;
    const closed = drain.close(50).then(() => (resolved = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(resolved, false, "an idle connection is left its window");
    await closed;
    assert.equal(resolved, true);
    const connections = await new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    assert.equal(connections, 0);
  });
});
