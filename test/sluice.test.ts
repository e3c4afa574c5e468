// Starting Sluice: the demo services a config refers to are started and wired in; a config
// that needs them when they are off, or names one that does not exist, is refused; plaintext
// keys on a non-loopback address draw a warning. And stopping it: from the moment `close` is
// called, every response on every plane asks its client to close the connection and the gRPC
// port sends GOAWAY, while both still take new connections during server.drainDelay.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:http2";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { Client } from "undici";
import { ConfigError, parseConfig } from "../src/config/loader.js";
import { createLogger } from "../src/observability/logger.js";
import { startSluice } from "../src/sluice.js";
import { envoyRlsClient } from "./service/grpc/envoyRlsClient.js";
import { startRecordingUpstream } from "./support/recordingUpstream.js";

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

const WARN = 40;

async function warningsFor(yaml: string): Promise<string[]> {
  const { logger, lines } = capturedLogger();
  const sluice = await startSluice({ config: parseConfig(yaml), logger });
  await sluice.close();
  return lines.filter((l) => l.level === WARN).map((l) => l.msg);
}

describe("plaintext API keys", () => {
  it("draw a warning when Sluice listens beyond loopback", async () => {
    // A status listener keeps /metrics off the public port, and its warning out of this story.
    const warnings = await warningsFor("server: { host: 0.0.0.0, port: 0, statusPort: 0 }\nconsumers:\n  demo: { keys: [secret-key] }\n");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /plaintext API keys/);
  });

  it("are fine on loopback", async () => {
    assert.deepEqual(await warningsFor("server: { host: 127.0.0.1, port: 0 }\nconsumers:\n  demo: { keys: [secret-key] }\n"), []);
  });

  it("are not involved when every key is a hash", async () => {
    const hashed = `sha256:${"ab".repeat(32)}`;
    assert.deepEqual(await warningsFor(`server: { host: 0.0.0.0, port: 0, statusPort: 0 }\nconsumers:\n  demo: { keys: ["${hashed}"] }\n`), []);
  });
});

describe("demo upstreams", () => {
  it("start the demo services the config names, on free ports, and only those", async () => {
    const sluice = await startSluice({ config: parseConfig("server: { port: 0 }\nservices:\n  people: { upstream: demo://users }\n"), logger: pino({ level: "silent" }) });
    try {
      assert.deepEqual([...sluice.demo!.urls.keys()], ["users"]);
      const direct = await fetch(`${sluice.demo!.urls.get("users")}/users/102`);
      assert.deepEqual(await direct.json(), { user_id: 102, name: "Anagha", segment: "luxury" });
    } finally {
      await sluice.close();
    }
  });

  it("are refused when the demo services are turned off", async () => {
    const config = parseConfig("server: { port: 0 }\nservices:\n  people: { upstream: demo://users }\n");
    await assert.rejects(startSluice({ config, demo: false, logger: pino({ level: "silent" }) }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems[0]?.path, "services.people.upstream");
      return true;
    });
  });

  it("must name a demo service that exists, which the config check catches with its line", () => {
    assert.throws(() => parseConfig("services:\n  x: { upstream: demo://weather }\n", "t.yaml"), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual([error.problems[0]?.line, error.problems[0]?.path], [2, "services.x.upstream"]);
      assert.match(error.problems[0]!.message, /demo:\/\/users, demo:\/\/recommendations, demo:\/\/random-number/);
      return true;
    });
  });
});

describe("shutting down", () => {
  it("asks every client to close its connection, on every plane, and sends gRPC clients GOAWAY, while still taking new ones during drainDelay", async () => {
    const upstream = await startRecordingUpstream();
    const config = parseConfig(`
server: { drainDelay: 2s }
services:
  echo: { upstream: "${upstream.url}", openapi: false }
consumers:
  demo: { keys: [secret-key] }
policies:
  edge:
    descriptors:
      - { key: user, limit: { limit: 100, window: 1m } }
`);
    const sluice = await startSluice({ config: { ...config, server: { ...config.server, host: "127.0.0.1", port: 0, grpcPort: 0 } }, logger: createLogger("silent"), adminToken: "admin-token-for-the-drain", demo: false });
    // One kept-alive connection, as a client's pool holds it, and one HTTP/2 connection to the gRPC port.
    const client = new Client(sluice.url, { pipelining: 1 });
    const grpcSession = connect(`http://127.0.0.1:${sluice.grpcPort}`);
    const goaway = once(grpcSession, "goaway");
    const get = async (path: string, init: { method?: "GET" | "POST"; headers?: Record<string, string>; body?: string } = {}) => {
      const response = await client.request({ path, method: init.method ?? "GET", headers: init.headers ?? {}, body: init.body ?? null });
      await response.body.text();
      return [response.statusCode, response.headers["connection"]];
    };
    try {
      assert.deepEqual(await get("/healthz"), [200, "keep-alive"]);
      const closed = sluice.close();
      let closedYet = false;
      void closed.then(() => (closedYet = true));
      assert.deepEqual(await get("/healthz"), [200, "close"], "the control plane");
      assert.deepEqual(await get("/api/echo/x", { headers: { "x-api-key": "secret-key" } }), [200, "close"], "the gateway");
      assert.deepEqual(await get("/v1/ratelimit", {
        method: "POST",
        headers: { authorization: "Bearer admin-token-for-the-drain", "content-type": "application/json" },
        body: JSON.stringify({ identifier: "u", limit: 1, duration: "1m" }),
      }), [200, "close"], "the rate-limit API");
      await goaway;
      const rls = envoyRlsClient(`127.0.0.1:${sluice.grpcPort}`);
      const answer = await rls.shouldRateLimit({ domain: "edge", descriptors: [{ entries: [{ key: "user", value: "u" }] }] }).finally(() => rls.close());
      assert.equal(answer.overall_code, "OK", "a new gRPC connection is still answered");
      assert.equal(closedYet, false, "all of it within drainDelay");
      await closed;
    } finally {
      grpcSession.destroy();
      await client.destroy();
      await upstream.close();
    }
  });
});
