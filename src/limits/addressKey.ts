/**
 * How a client address counts: the part of a limit key, and of the sign-in, sign-up and
 * invalid-key throttles' keys, that says which client. One client cannot rotate through the
 * addresses of its IPv6 subnet to get fresh counters.
 */
import { isIPv4, isIPv6 } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * The rate-limit counter key for an address. IPv4 (dotted decimal) is returned as is. IPv6 is
 * masked to `ipv6PrefixLength` bits (0–128) and written in canonical compressed form with the
 * prefix, e.g. "2001:db8:1:2::/64"; at 128 it is the full canonical address with no "/128"
 * suffix. IPv4-mapped IPv6 becomes its IPv4 address; a zone id ("%eth0") is dropped. Anything
 * unparsable, including non-canonical IPv4 spellings such as "127.1", is returned unchanged.
 * Throws a RangeError only for an invalid prefix length (a configuration bug, not request input).
 */
export function addressKey(address: string, ipv6PrefixLength: number): string {
  if (!Number.isInteger(ipv6PrefixLength) || ipv6PrefixLength < 0 || ipv6PrefixLength > 128) {
    throw new RangeError(`IPv6 prefix length must be an integer from 0 to 128, got ${ipv6PrefixLength}`);
  }
  if (isIPv4(address) || !isIPv6(address)) return address;
  let ip: ipaddr.IPv6;
  try {
    ip = ipaddr.IPv6.parse(address);
  } catch {
    return address;
  }
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address().toString();
  const parts = ip.parts.map((part, index) => {
    const bits = ipv6PrefixLength - index * 16;
    return bits >= 16 ? part : bits <= 0 ? 0 : part & (0xffff << (16 - bits)) & 0xffff;
  });
  const canonical = new ipaddr.IPv6(parts).toString();
  return ipv6PrefixLength === 128 ? canonical : `${canonical}/${ipv6PrefixLength}`;
}
