// Which client a rate limit counts: the right-most address no trusted proxy vouches for, so a
// forged X-Forwarded-For never moves the counter, and IPv6 clients are grouped by prefix so one
// client cannot rotate addresses within its /64.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { clientAddress, compileTrust, type TrustedProxies } from "../../src/edge/clientAddress.js";
import { addressKey } from "../../src/limits/addressKey.js";

interface AddressCase {
  readonly name: string;
  readonly trust: TrustedProxies;
  readonly socket: string | undefined;
  readonly xff?: string | string[];
  readonly expected: string;
}

function request(socket: string | undefined, xff?: string | string[]) {
  const headers: IncomingHttpHeaders = xff === undefined ? {} : { "x-forwarded-for": xff };
  return { socket: { remoteAddress: socket }, headers };
}

const lb = "10.0.0.1";
const internal: TrustedProxies = { cidrs: ["10.0.0.0/8"] };

const addressCases: readonly AddressCase[] = [
  // Trust nobody: the header is the client's to forge, so it is ignored.
  { name: "no trust: socket address, no header", trust: undefined, socket: "203.0.113.7", expected: "203.0.113.7" },
  { name: "no trust: forged X-Forwarded-For ignored", trust: undefined, socket: "203.0.113.7", xff: "198.51.100.1", expected: "203.0.113.7" },
  { name: "hops: 0 is trust nobody", trust: { hops: 0 }, socket: "203.0.113.7", xff: "198.51.100.1", expected: "203.0.113.7" },
  { name: "cidrs: [] is trust nobody", trust: { cidrs: [] }, socket: "203.0.113.7", xff: "198.51.100.1", expected: "203.0.113.7" },

  // Hop counting: hop 0 is the socket peer, hop 1 the right-most header entry.
  { name: "hops: 1 → last entry", trust: { hops: 1 }, socket: lb, xff: "198.51.100.1, 203.0.113.9", expected: "203.0.113.9" },
  { name: "hops: 2 → second last entry", trust: { hops: 2 }, socket: lb, xff: "198.51.100.1, 203.0.113.9", expected: "198.51.100.1" },
  { name: "hops: 1 without a header → socket", trust: { hops: 1 }, socket: lb, expected: lb },
  { name: "hops beyond the chain → left-most entry", trust: { hops: 5 }, socket: lb, xff: "198.51.100.1, 203.0.113.9", expected: "198.51.100.1" },
  { name: "hops trust by position, not address", trust: { hops: 1 }, socket: "203.0.113.50", xff: "198.51.100.1", expected: "198.51.100.1" },

  // Trust by range: skip trusted entries, stop at the first untrusted one from the right.
  { name: "cidrs → right-most untrusted entry", trust: internal, socket: lb, xff: "198.51.100.1, 203.0.113.9, 10.0.0.2", expected: "203.0.113.9" },
  { name: "cidrs: untrusted socket → socket, header ignored", trust: internal, socket: "203.0.113.50", xff: "198.51.100.1", expected: "203.0.113.50" },
  { name: "cidrs: all entries trusted → left-most", trust: internal, socket: lb, xff: "10.0.0.3, 10.0.0.2", expected: "10.0.0.3" },
  { name: "cidrs: named ranges", trust: { cidrs: ["loopback", "uniquelocal"] }, socket: "::1", xff: "198.51.100.1, 192.168.1.1", expected: "198.51.100.1" },
  { name: "cidrs: IPv4 range trusts an IPv4-mapped socket", trust: internal, socket: "::ffff:10.0.0.1", xff: "203.0.113.9", expected: "203.0.113.9" },
  { name: "cidrs: IPv6 range", trust: { cidrs: ["fd00::/8"] }, socket: "fd00::1", xff: "2001:db8::7, fd00::2", expected: "2001:db8::7" },

  // Header shapes.
  { name: "spaces around entries", trust: internal, socket: lb, xff: "  198.51.100.1 ,203.0.113.9  ,   10.0.0.2  ", expected: "203.0.113.9" },
  { name: "empty entries skipped", trust: { hops: 1 }, socket: lb, xff: ",, 203.0.113.9 ,,", expected: "203.0.113.9" },
  { name: "empty header → socket", trust: { hops: 1 }, socket: lb, xff: "", expected: lb },
  { name: "several headers joined in order", trust: internal, socket: lb, xff: ["198.51.100.1", "203.0.113.9, 10.0.0.2"], expected: "203.0.113.9" },
  { name: "several headers, hops counted across them", trust: { hops: 2 }, socket: lb, xff: ["198.51.100.1", "203.0.113.9"], expected: "198.51.100.1" },

  // Garbage never becomes the client: fall back to the last trusted hop.
  { name: "garbage where the walk stops → last trusted hop", trust: internal, socket: lb, xff: "198.51.100.1, not-an-ip, 10.0.0.2", expected: "10.0.0.2" },
  { name: "garbage as the only entry → socket", trust: internal, socket: lb, xff: "not-an-ip", expected: lb },
  { name: "hops: 1 on a garbage entry → socket", trust: { hops: 1 }, socket: lb, xff: "198.51.100.1, ;drop table", expected: lb },
  { name: "hops: 2 on garbage → last valid trusted hop", trust: { hops: 2 }, socket: lb, xff: "1.2.3.999, 10.0.0.2", expected: "10.0.0.2" },
  { name: "address with port is garbage", trust: { hops: 1 }, socket: lb, xff: "203.0.113.9:4711", expected: lb },
  { name: "non-canonical IPv4 spelling is garbage", trust: { hops: 1 }, socket: lb, xff: "127.1", expected: lb },
  { name: "garbage left of the client is never reached", trust: internal, socket: lb, xff: "garbage, 203.0.113.9", expected: "203.0.113.9" },
  { name: "closed socket, no trust → empty string", trust: undefined, socket: undefined, xff: "198.51.100.1", expected: "" },
  { name: "closed socket, hops: 1 → header entry", trust: { hops: 1 }, socket: undefined, xff: "198.51.100.1", expected: "198.51.100.1" },

  // IPv4-mapped IPv6 is the IPv4 client.
  { name: "::ffff: socket unmapped", trust: undefined, socket: "::ffff:203.0.113.7", expected: "203.0.113.7" },
  { name: "::ffff: header entry unmapped", trust: { hops: 1 }, socket: lb, xff: "::ffff:198.51.100.1", expected: "198.51.100.1" },
  { name: "::ffff: hex form unmapped", trust: { hops: 1 }, socket: lb, xff: "::ffff:c633:6401", expected: "198.51.100.1" },
  { name: "plain IPv6 client kept", trust: { hops: 1 }, socket: lb, xff: "2001:db8::1", expected: "2001:db8::1" },
];

describe("clientAddress", () => {
  for (const c of addressCases) {
    it(c.name, () => {
      assert.equal(clientAddress(request(c.socket, c.xff), compileTrust(c.trust)), c.expected);
    });
  }

  it("works on a real IncomingMessage from a socket", async () => {
    const trusts = [compileTrust(undefined), compileTrust({ hops: 1 })];
    const seen: string[] = [];
    const server = createServer((req, res) => {
      for (const trust of trusts) seen.push(clientAddress(req, trust));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { "x-forwarded-for": "203.0.113.9" } });
      await response.arrayBuffer();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.deepEqual(seen, ["127.0.0.1", "203.0.113.9"]);
  });
});

describe("compileTrust", () => {
  const badCidrs = ["10.0.0.0/33", "10.0.0.0/0", "::/0", "::/129", "nonsense", "", " 10.0.0.1", "10.0.0.0/abc", "10.0.0.0/"];
  for (const entry of badCidrs) {
    it(`rejects cidr ${JSON.stringify(entry)} naming the entry`, () => {
      assert.throws(
        () => compileTrust({ cidrs: ["10.0.0.0/8", entry] }),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.ok(error.message.includes(`cidrs[1] ${JSON.stringify(entry)}`), error.message);
          return true;
        },
      );
    });
  }

  const goodCidrs: readonly (readonly [entry: string, trusted: string, untrusted: string])[] = [
    ["10.0.0.0/8", "10.1.2.3", "11.0.0.1"],
    ["10.0.0.0/255.0.0.0", "10.1.2.3", "11.0.0.1"],
    ["192.0.2.7", "192.0.2.7", "192.0.2.8"],
    ["::1", "::1", "::2"],
    ["fd00::/8", "fd12::1", "fe00::1"],
    ["::ffff:10.0.0.0/104", "10.1.2.3", "11.0.0.1"],
    ["loopback", "127.0.0.5", "128.0.0.1"],
    ["linklocal", "fe80::1", "2001:db8::1"],
    ["uniquelocal", "192.168.1.1", "192.169.1.1"],
  ];
  for (const [entry, trusted, untrusted] of goodCidrs) {
    it(`accepts cidr ${JSON.stringify(entry)}: trusts ${trusted}, not ${untrusted}`, () => {
      const trust = compileTrust({ cidrs: [entry] });
      assert.ok(trust);
      assert.equal(trust(trusted, 0), true);
      assert.equal(trust(untrusted, 0), false);
    });
  }

  for (const hops of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`rejects hops ${hops}`, () => {
      assert.throws(() => compileTrust({ hops }), /hops must be a non-negative integer/);
    });
  }
});

describe("addressKey", () => {
  const keyCases: readonly { readonly address: string; readonly prefix: number; readonly expected: string }[] = [
    { address: "203.0.113.7", prefix: 64, expected: "203.0.113.7" },
    { address: "2001:db8:1:2:aaaa:bbbb:cccc:dddd", prefix: 64, expected: "2001:db8:1:2::/64" },
    { address: "2001:db8:1:2:ffff::1", prefix: 64, expected: "2001:db8:1:2::/64" }, // rotation within the /64: same key
    { address: "2001:db8:1:3::1", prefix: 64, expected: "2001:db8:1:3::/64" }, // the neighbouring /64: another key
    { address: "2001:0DB8:0001:0002:0000:0000:0000:0001", prefix: 64, expected: "2001:db8:1:2::/64" },
    { address: "2001:db8:1:2:aaaa::1", prefix: 48, expected: "2001:db8:1::/48" },
    { address: "2001:db8:1:2ff::1", prefix: 56, expected: "2001:db8:1:200::/56" }, // mask inside a 16-bit group
    { address: "2001:DB8:0:0:0:0:0:1", prefix: 128, expected: "2001:db8::1" },
    { address: "2001:db8:1:2:aaaa:bbbb:cccc:dddd", prefix: 128, expected: "2001:db8:1:2:aaaa:bbbb:cccc:dddd" },
    { address: "fe80::1%eth0", prefix: 128, expected: "fe80::1" },
    { address: "2001:db8::1", prefix: 0, expected: "::/0" },
    { address: "::ffff:1.2.3.4", prefix: 64, expected: "1.2.3.4" },
    { address: "", prefix: 64, expected: "" },
    { address: "garbage", prefix: 64, expected: "garbage" },
    { address: "1.2.3.256", prefix: 64, expected: "1.2.3.256" },
    { address: "::gg", prefix: 64, expected: "::gg" },
    { address: "127.1", prefix: 64, expected: "127.1" },
  ];
  for (const c of keyCases) {
    it(`${JSON.stringify(c.address)} /${c.prefix} → ${JSON.stringify(c.expected)}`, () => {
      assert.equal(addressKey(c.address, c.prefix), c.expected);
    });
  }

  for (const prefix of [-1, 129, 1.5, Number.NaN]) {
    it(`rejects prefix length ${prefix}`, () => {
      assert.throws(() => addressKey("2001:db8::1", prefix), RangeError);
    });
  }
});
