// A page on evil.example can point its own name at 127.0.0.1 (DNS rebinding) and then, "same
// origin" with itself, drive a Sluice on the developer's laptop: its dashboard, admin API and
// gateway. The browser still sends `Host: evil.example`, so Sluice answers only the names it
// serves (server.publicHosts): by default, on a loopback address, the names of this machine.
// First the rules, as tables; then over the wire, where a refused Host gets 421 on every path
// and the upstream receives nothing.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../../src/config/loader.js";
import { publicHostCheck, type HostCheck } from "../../src/edge/publicHosts.js";
import { rawRequest } from "../support/rawRequest.js";
import { startRecordingUpstream, type RecordingUpstream } from "../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../support/testSluice.js";

/** The check a config's server section compiles to; the schema checks the entries first. */
function checkFor(server: string): HostCheck | undefined {
  return publicHostCheck(parseConfig(`server: ${server}\n`, "test.yaml").server);
}

function assertHosts(check: HostCheck | undefined, accepted: readonly (string | undefined)[], refused: readonly string[]): void {
  assert.ok(check !== undefined);
  for (const host of accepted) assert.equal(check(host), true, `accepts ${String(host)}`);
  for (const host of refused) assert.equal(check(host), false, `refuses ${host}`);
  // A second look answers the same (accepted values are remembered).
  for (const host of accepted) assert.equal(check(host), true, `still accepts ${String(host)}`);
  for (const host of refused) assert.equal(check(host), false, `still refuses ${host}`);
}

describe("publicHostCheck, without publicHosts", () => {
  it("on a loopback address: this machine's names, with any port; nothing else", () => {
    assertHosts(checkFor("{ host: 127.0.0.1 }"),
      ["localhost", "localhost:8080", "LocalHost:8080", "localhost.:8080", "api.localhost:3000", "127.0.0.1", "127.0.0.1:8080", "[::1]:8080", undefined],
      ["evil.example", "evil.example:8080", "localhost.evil.example:8080", "127.0.0.1.nip.io:8080", "evillocalhost:8080", "0.0.0.0:8080", "192.168.1.5:8080", "", ":8080", "localhost:80a", "[::1"]);
  });

  it("on another loopback address or name, that one too", () => {
    assertHosts(checkFor("{ host: 127.0.0.2 }"), ["127.0.0.2:8080", "localhost:8080"], ["evil.example:8080"]);
    assertHosts(checkFor("{ host: '::1' }"), ["[::1]:8080"], ["evil.example:8080"]);
    assertHosts(checkFor("{ host: localhost }"), ["localhost:8080"], ["evil.example:8080"]);
  });

  it("accepts every host where others can reach Sluice, or a trusted proxy in front decides", () => {
    assert.equal(checkFor("{ host: 0.0.0.0 }"), undefined);
    assert.equal(checkFor("{ host: '::' }"), undefined);
    assert.equal(checkFor("{ host: 10.0.0.5 }"), undefined);
    assert.equal(checkFor("{ host: 127.0.0.1, trustedProxies: [loopback] }"), undefined);
  });
});

describe("publicHostCheck, with publicHosts", () => {
  it("accepts the names listed, with any port unless one is given, and the subdomains of *. entries", () => {
    assertHosts(checkFor('{ publicHosts: [api.example.com, "*.example.org", "10.0.0.5:8443", "[2001:db8::1]"] }'),
      ["api.example.com", "API.Example.COM:443", "api.example.com.", "x.example.org", "a.b.example.org:1", "10.0.0.5:8443", "[2001:db8::1]:80", "[2001:DB8::1]"],
      ["example.org", "badexample.org", "10.0.0.5", "10.0.0.5:80", "localhost:8080", "127.0.0.1:8080", "api.example.com.evil.example", "www.example.com"]);
  });

  it("replaces the loopback default, and * accepts every host", () => {
    assertHosts(checkFor("{ host: 127.0.0.1, publicHosts: [sluice.test] }"), ["sluice.test:8080"], ["localhost:8080"]);
    assert.equal(checkFor('{ host: 127.0.0.1, publicHosts: ["*"] }'), undefined);
  });
});

describe("over the wire", () => {
  const KEY = "public-hosts-key";
  let upstream: RecordingUpstream;
  let sluice: TestSluice;
  let port: string;
  before(async () => {
    upstream = await startRecordingUpstream();
    sluice = await startTestSluice(`
services:
  echo: { upstream: "${upstream.url}", openapi: false, websocket: true }
consumers:
  tester: { keys: [${KEY}] }
`);
    port = new URL(sluice.url).port;
  });
  after(async () => {
    await sluice.close();
    await upstream.close();
  });

  it("a loopback Sluice answers its own names", async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      assert.equal((await rawRequest(sluice.url, "/api/echo/ok", { headers: { host, "x-api-key": KEY } })).status, 200, host);
    }
  });

  it("a rebound name gets 421 on the gateway, the rate-limit API and the control plane, and reaches no upstream", async () => {
    const before = upstream.received.length;
    for (const [path, method] of [["/api/echo/x", "GET"], ["/v1/ratelimit", "POST"], ["/dashboard", "GET"], ["/auth/login", "POST"], ["/healthz", "GET"]] as const) {
      const response = await rawRequest(sluice.url, path, { method, headers: { "host": `evil.example:${port}`, "x-api-key": KEY, "content-type": "application/json" }, body: "{}" });
      assert.equal(response.status, 421, path);
      assert.equal((JSON.parse(response.body) as { code: string }).code, "SLUICE_ERR_MISDIRECTED_REQUEST", path);
      assert.equal(response.headers["connection"], "close", path);
    }
    assert.equal(upstream.received.length, before);
  });

  it("a WebSocket upgrade from a rebound name gets 421 too", async () => {
    const socket = connect(Number(port), "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    const closed = new Promise((resolve) => socket.on("close", resolve));
    socket.write(`GET /api/echo/live HTTP/1.1\r\nHost: evil.example:${port}\r\nx-api-key: ${KEY}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    await closed;
    assert.match(Buffer.concat(chunks).toString("latin1"), /^HTTP\/1\.1 421 /);
  });
});

describe("over the wire, with publicHosts", () => {
  let sluice: TestSluice;
  before(async () => {
    sluice = await startTestSluice("server: { publicHosts: [sluice.test] }\n");
  });
  after(() => sluice.close());

  it("answers the names listed, and no longer localhost", async () => {
    const { port } = new URL(sluice.url);
    assert.equal((await rawRequest(sluice.url, "/healthz", { headers: { host: `sluice.test:${port}` } })).status, 200);
    assert.equal((await rawRequest(sluice.url, "/healthz", { headers: { host: `localhost:${port}` } })).status, 421);
  });
});
