// `Expect: 100-continue` on the gateway: a client is invited to send its body only once its
// request has passed authentication, routing, the body limit and the rate limits. Refused, it
// gets its final answer first (no 100), the connection closes, and the upstream receives
// nothing; admitted, it gets `100 Continue`, sends its body, and the upstream receives all of it
// (without the Expect header). The rate-limit API invites a caller once its token has passed;
// other requests outside /api are invited at once, as node would, and
// any other expectation still gets 417. Raw sockets, so the test sees every byte and its order.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { KEY, upstreamReceivedSince, startBenchWith, type HostileBench } from "./hostile/hostileHarness.js";

const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
/** A bearer token the rate-limit API accepts (SLUICE_ADMIN_TOKEN). */
const ADMIN_TOKEN = "expect-continue-admin-token";

let bench: HostileBench;
before(async () => {
  bench = await startBenchWith((upstream) => `
server:
  maxBodySize: 1kb
limits:
  one-at-most: { algorithm: fixed-window, limit: 1, window: 1m, by: [consumer] }
services:
  echo: { upstream: "${upstream}", openapi: false }
  scarce:
    upstream: "${upstream}/scarce"
    openapi: false
    routes:
      - { path: /*, cost: 2, limits: [one-at-most] }
consumers:
  tester: { keys: [${KEY}] }
`, { adminToken: ADMIN_TOKEN });
});
after(() => bench.close());

/**
 * A raw connection the test drives step by step: write some bytes, wait for what the gateway
 * answers, write more. Waiting gives up after `giveUpMs` (a gateway that never answers fails the
 * test instead of hanging it); nothing is asserted on time.
 */
class RawConnection {
  received = "";
  closedByServer = false;
  readonly #socket: Socket;
  #changed: () => void = () => undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.received += chunk.toString("latin1");
      this.#changed();
    });
    socket.on("close", () => {
      this.closedByServer = true;
      this.#changed();
    });
    socket.on("error", () => undefined); // a reset is asserted through closedByServer
  }

  static async open(): Promise<RawConnection> {
    const socket = connect(Number(new URL(bench.sluice.url).port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    return new RawConnection(socket);
  }

  write(bytes: string): void {
    this.#socket.write(bytes, "latin1");
  }

  /** Resolves with everything received once `done` holds, the gateway has closed, or time is up. */
  async until(done: (received: string) => boolean, giveUpMs = 3_000): Promise<string> {
    let gaveUp = false;
    const timer = setTimeout(() => {
      gaveUp = true;
      this.#changed();
    }, giveUpMs);
    while (!done(this.received) && !this.closedByServer && !gaveUp) {
      await new Promise<void>((resolve) => (this.#changed = resolve));
    }
    clearTimeout(timer);
    return this.received;
  }

  /** Waits for the gateway to close the connection (the requests here end with Connection: close). */
  closed(): Promise<string> {
    return this.until(() => false);
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

/** A POST head that expects 100-continue, with the test key unless `key` says otherwise (null: no key). */
function head(target: string, framing: string, key: string | null = KEY, expect = "100-continue"): string {
  return `POST ${target} HTTP/1.1\r\nHost: ${bench.authority}\r\n${key === null ? "" : `x-api-key: ${key}\r\n`}Expect: ${expect}\r\nConnection: close\r\n${framing}\r\n`;
}

/** Sends the head only, and returns the first bytes the gateway answers with (or all of them, when it closes). */
async function firstAnswer(connection: RawConnection, requestHead: string): Promise<string> {
  connection.write(requestHead);
  return connection.until((received) => received.includes("\r\n\r\n"));
}

describe("an admitted request", () => {
  it("is invited with 100 Continue before it sends its body, and the upstream receives the body whole", async () => {
    const before = bench.upstream.received.length;
    const connection = await RawConnection.open();
    try {
      const first = await firstAnswer(connection, head("/api/echo/upload", "Content-Length: 11\r\n"));
      assert.equal(first, CONTINUE, "the first bytes must be the interim 100 and nothing else");
      connection.write("hello world");
      const all = await connection.closed();
      assert.match(all.slice(CONTINUE.length), /^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      connection.destroy();
    }
    const [received, ...others] = await upstreamReceivedSince(bench, before);
    assert.deepEqual(others, []);
    assert.equal(received?.url, "/upload");
    assert.equal(received?.body.toString(), "hello world");
    assert.equal(received?.headers.expect, undefined, "Expect is answered by the gateway, not forwarded");
  });

  it("is invited the same way with a chunked body", async () => {
    const before = bench.upstream.received.length;
    const connection = await RawConnection.open();
    try {
      assert.equal(await firstAnswer(connection, head("/api/echo/chunks", "Transfer-Encoding: chunked\r\n")), CONTINUE);
      connection.write("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
      assert.match((await connection.closed()).slice(CONTINUE.length), /^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      connection.destroy();
    }
    assert.equal((await upstreamReceivedSince(bench, before))[0]?.body.toString(), "hello world");
  });

  it("without a body is invited at once and keeps its connection", async () => {
    const connection = await RawConnection.open();
    try {
      connection.write(`GET /api/echo/nothing HTTP/1.1\r\nHost: ${bench.authority}\r\nx-api-key: ${KEY}\r\nExpect: 100-continue\r\n\r\n`);
      const all = await connection.until((received) => /\r\n\r\n\{[^}]*\}$/.test(received));
      assert.ok(all.startsWith(CONTINUE), all);
      assert.match(all.slice(CONTINUE.length), /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(all, /\r\nConnection: keep-alive\r\n/i);
      assert.equal(connection.closedByServer, false);
    } finally {
      connection.destroy();
    }
  });
});

describe("a refused request", () => {
  const REFUSED: ReadonlyArray<readonly [story: string, status: number, requestHead: () => string]> = [
    ["without a key", 401, () => head("/api/echo/upload", "Content-Length: 11\r\n", null)],
    ["with a wrong key", 401, () => head("/api/echo/upload", "Content-Length: 11\r\n", "not-the-key-at-all")],
    ["for a service that does not exist", 404, () => head("/api/nowhere/upload", "Content-Length: 11\r\n")],
    ["refused by a rate limit", 429, () => head("/api/scarce/upload", "Content-Length: 11\r\n")],
    ["declaring a body over the limit", 413, () => head("/api/echo/upload", "Content-Length: 1025\r\n")],
    ["with a chunked body, without a key", 401, () => head("/api/echo/upload", "Transfer-Encoding: chunked\r\n", null)],
  ];
  for (const [story, status, requestHead] of REFUSED) {
    it(`${story} gets its final ${status} with no 100 Continue, and the upstream receives nothing`, async () => {
      const before = bench.upstream.received.length;
      const connection = await RawConnection.open();
      try {
        const first = await firstAnswer(connection, requestHead());
        assert.ok(first.startsWith(`HTTP/1.1 ${status} `), `expected a ${status} first, got: ${first.slice(0, 200)}`);
        // A client that gives up waiting sends its body anyway: it must not reach the upstream.
        connection.write("hello world");
        const all = await connection.closed();
        assert.ok(!all.includes(" 100 Continue"), all);
        assert.match(all, /\r\nConnection: close\r\n/i);
        assert.equal(connection.closedByServer, true);
      } finally {
        connection.destroy();
      }
      assert.deepEqual(await upstreamReceivedSince(bench, before), []);
    });
  }
});

describe("the rate-limit API", () => {
  const decision = '{"identifier":"expect-continue","limit":5,"duration":"1m"}';
  const ratelimitHead = (authorization: string) => head("/v1/ratelimit", `${authorization}Content-Type: application/json\r\nContent-Length: ${decision.length}\r\n`, null);

  it("invites a caller with a valid token, then decides on the body it sends", async () => {
    const connection = await RawConnection.open();
    try {
      assert.equal(await firstAnswer(connection, ratelimitHead(`Authorization: Bearer ${ADMIN_TOKEN}\r\n`)), CONTINUE);
      connection.write(decision);
      const answer = (await connection.closed()).slice(CONTINUE.length);
      assert.match(answer, /^HTTP\/1\.1 200 /);
      assert.match(answer, /"allowed":true/);
    } finally {
      connection.destroy();
    }
  });

  it("answers a caller without a valid token 401 first, never inviting it, and closes the connection", async () => {
    for (const authorization of ["", "Authorization: Bearer not-the-token\r\n"]) {
      const connection = await RawConnection.open();
      try {
        // A keep-alive request: only the gateway's choice can close this connection.
        const keepAlive = ratelimitHead(authorization).replace("Connection: close\r\n", "");
        const first = await firstAnswer(connection, keepAlive);
        assert.match(first, /^HTTP\/1\.1 401 /, `${JSON.stringify(authorization)}: ${first}`);
        assert.match(first, /\r\nconnection: close\r\n/i);
        await connection.closed();
        assert.ok(!connection.received.includes("100 Continue"));
      } finally {
        connection.destroy();
      }
    }
  });
});

describe("another expectation", () => {
  it("gets 417 Expectation Failed, and the upstream receives nothing", async () => {
    const before = bench.upstream.received.length;
    const connection = await RawConnection.open();
    try {
      const first = await firstAnswer(connection, head("/api/echo/upload", "Content-Length: 11\r\n", KEY, "200-ok"));
      assert.match(first, /^HTTP\/1\.1 417 /);
    } finally {
      connection.destroy();
    }
    assert.deepEqual(await upstreamReceivedSince(bench, before), []);
  });
});
