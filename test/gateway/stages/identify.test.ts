// Who a per-IP limit counts, over real HTTP. With no trusted proxies the socket peer is the
// client and a forged X-Forwarded-For changes nothing. Behind a trusted proxy the client is the
// right-most address the proxy did not vouch for, and IPv6 clients share one counter per /64,
// so rotating through a subnet's addresses does not buy more requests. The upstream learns the
// chain, with the gateway's own peer appended.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startRecordingUpstream, type RecordingUpstream } from "../../support/recordingUpstream.js";
import { startTestSluice, type TestSluice } from "../../support/testSluice.js";

const KEY = "alice-key-0001";
const limitsYaml = (upstream: string, server: string) => `
server: ${server}
limits:
  per-ip: { algorithm: fixed-window, limit: 2, window: 1m, by: [ip] }
services:
  echo: { upstream: "${upstream}", limits: [per-ip], openapi: false }
consumers:
  alice: { keys: [${KEY}] }
`;

let upstream: RecordingUpstream;
before(async () => {
  upstream = await startRecordingUpstream();
});
after(async () => {
  await upstream.close();
});

async function statuses(sluice: TestSluice, forwardedFor: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const xff of forwardedFor) {
    const response = await sluice.call("/api/echo/x", { key: KEY, headers: { "x-forwarded-for": xff } });
    await response.body?.cancel();
    out.push(response.status);
  }
  return out;
}

describe("with no trusted proxies", () => {
  let sluice: TestSluice;
  before(async () => {
    sluice = await startTestSluice(limitsYaml(upstream.url, "{}"));
  });
  after(() => sluice.close());

  it("counts the socket peer, whatever X-Forwarded-For claims", async () => {
    assert.deepEqual(await statuses(sluice, ["198.51.100.1", "198.51.100.2", "198.51.100.3"]), [200, 200, 429]);
  });
});

describe("behind one trusted proxy hop", () => {
  let sluice: TestSluice;
  before(async () => {
    sluice = await startTestSluice(limitsYaml(upstream.url, "{ trustedProxies: 1 }"));
  });
  after(() => sluice.close());

  it("counts each client the proxy reports", async () => {
    assert.deepEqual(await statuses(sluice, ["198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.1"]), [200, 200, 200, 429]);
  });

  it("believes only the entry the trusted proxy appended, not what the client prepended", async () => {
    // The client forged "10.9.9.9"; the proxy appended the address it saw, 203.0.113.5.
    assert.deepEqual(await statuses(sluice, ["10.9.9.9, 203.0.113.5", "10.9.9.8, 203.0.113.5", "203.0.113.5"]), [200, 200, 429]);
  });

  it("passes the chain on with the proxy's own address appended", async () => {
    const before = upstream.received.length;
    await statuses(sluice, ["203.0.113.77"]);
    assert.equal(upstream.received[before]?.headers["x-forwarded-for"], "203.0.113.77, 127.0.0.1");
  });
});

describe("IPv6 clients behind trusted loopback proxies", () => {
  let sluice: TestSluice;
  before(async () => {
    sluice = await startTestSluice(limitsYaml(upstream.url, "{ trustedProxies: [loopback] }"));
  });
  after(() => sluice.close());

  it("share one counter per /64", async () => {
    assert.deepEqual(await statuses(sluice, ["2001:db8:1:2::1", "2001:db8:1:2::ffff", "2001:db8:1:2:abcd::9"]), [200, 200, 429]);
    assert.deepEqual(await statuses(sluice, ["2001:db8:1:3::1"]), [200], "the next /64 is another client");
  });
});

describe("a trusted proxy list in the config", () => {
  it("is checked at load time", async () => {
    await assert.rejects(startTestSluice(limitsYaml(upstream.url, '{ trustedProxies: ["10.0.0.0/33"] }')), /server\.trustedProxies\.0.*CIDR range/s);
  });
});
