// Which client address a rate limit counts by.
//
// Rate limits must count the real client, not the load balancer in front of the gateway, and a
// client must not be able to pick its own counter by forging X-Forwarded-For. So the address is
// the right-most *untrusted* one: the socket address unless the socket peer is a trusted proxy,
// else the X-Forwarded-For walk from right to left (done by proxy-addr, as Express does) stopping
// at the first address that no trusted proxy vouches for. With no trust configured the header is
// ignored entirely.
//
// IPv6 clients are usually handed a whole /64 (or more); limits/addressKey.ts groups them by
// prefix when an address becomes part of a counter's key.
//
// The trust function is compiled once (at config load, where a bad CIDR throws); the per-request
// path allocates little: proxy-addr's address list, and one parse only for IPv6 addresses.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import proxyaddr from "proxy-addr";

/**
 * Which proxies in front of the gateway are trusted to report the client address.
 * `undefined`: nobody; the socket address is the client and X-Forwarded-For is ignored.
 * `hops: N`: the N nearest proxies (hop 0 is the socket peer), whatever their addresses.
 * `cidrs`: proxies whose address is in one of these ranges; entries are what proxy-addr's
 * `compile` accepts: "10.0.0.0/8", "10.0.0.0/255.0.0.0", "::1", "fd00::/8", "loopback",
 * "linklocal", "uniquelocal".
 */
export type TrustedProxies = { readonly hops: number } | { readonly cidrs: readonly string[] } | undefined;

/** Whether the address at `hop` (0 = socket peer, 1 = right-most X-Forwarded-For entry, …) is trusted. */
export type TrustFunction = (address: string, hop: number) => boolean;

/** The parts of a request the client address depends on; an `IncomingMessage` fits. */
export interface AddressedRequest {
  readonly socket: { readonly remoteAddress?: string | undefined };
  readonly headers: IncomingHttpHeaders;
}

/** The socket peer's address, IPv4-mapped IPv6 unmapped; "" once the socket has closed. */
export function peerAddress(req: AddressedRequest): string {
  return unmapIPv4(req.socket.remoteAddress ?? "");
}

/**
 * Compiles the trust configuration once. Throws an Error naming the offending entry when a CIDR
 * entry is invalid (including "/0": proxy-addr refuses to trust everything by range) or when
 * `hops` is not a non-negative integer.
 */
export function compileTrust(trust: TrustedProxies): TrustFunction | undefined {
  if (trust === undefined) return undefined;
  if ("hops" in trust) {
    const hops = trust.hops;
    if (!Number.isSafeInteger(hops) || hops < 0) {
      throw new Error(`trusted proxies: hops must be a non-negative integer, got ${String(hops)}`);
    }
    return hops === 0 ? undefined : (_address, hop) => hop < hops;
  }
  const cidrs = [...trust.cidrs];
  cidrs.forEach((entry, index) => {
    try {
      proxyaddr.compile(entry);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `trusted proxies: cidrs[${index}] ${JSON.stringify(entry)} is not an IP address, CIDR range ` +
          `or one of "loopback", "linklocal", "uniquelocal" (${reason})`,
        { cause: error },
      );
    }
  });
  return cidrs.length === 0 ? undefined : proxyaddr.compile(cidrs);
}

/** `server.trustedProxies` of the config: a number of hops, or a list of addresses and ranges. */
export function trustFromConfig(setting: number | readonly string[] | undefined): TrustFunction | undefined {
  return compileTrust(typeof setting === "number" ? { hops: setting } : setting && { cidrs: setting });
}

/**
 * The client address a request is counted by: the right-most untrusted address, IPv4-mapped IPv6
 * unmapped. Never throws on request input. A malformed X-Forwarded-For entry is never returned:
 * if the walk stops at one, the answer is the last trusted hop before it (ultimately the socket
 * address). An unknown socket address (closed socket) with no usable hop gives "".
 */
export function clientAddress(req: AddressedRequest, trust: TrustFunction | undefined): string {
  const socketAddress = req.socket.remoteAddress ?? "";
  if (trust === undefined) return unmapIPv4(socketAddress);
  const header = req.headers["x-forwarded-for"];
  // proxy-addr (via `forwarded`) throws on an array header; join repeated headers as Node does.
  const source = Array.isArray(header) ? { socket: req.socket, headers: { "x-forwarded-for": header.join(",") } } : req;
  // [socket, right-most XFF entry, …], cut after the first untrusted one: all but the last are trusted.
  const chain = proxyaddr.all(source as unknown as IncomingMessage, trust) as (string | undefined)[];
  for (let i = chain.length - 1; i >= 0; i--) {
    const address = chain[i];
    if (address !== undefined && isIP(address) !== 0) return unmapIPv4(address);
  }
  return socketAddress;
}

/** `::ffff:1.2.3.4` (or `::ffff:102:304`) → `1.2.3.4`; anything else unchanged. */
function unmapIPv4(address: string): string {
  if (!address.includes(":")) return address;
  try {
    const ip = ipaddr.IPv6.parse(address);
    return ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : address;
  } catch {
    return address;
  }
}
