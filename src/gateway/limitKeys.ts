/**
 * Builds the counter key of a limit for one request from the limit's `by` parts, e.g.
 * `per-client|c=demo` or `per-ip-route|ip=10.0.0.7|r=users:0`: the limit's name, then the
 * subject it counts (the Redis store makes the subject the key's hash tag). Parts are compiled once per limit
 * into a small list of readers, so the hot path only concatenates strings.
 */
import { addressKey } from "./clientAddress.js";
import type { Exchange } from "./exchange.js";
import { segmentValue } from "./requestPath.js";

type KeyPart = "consumer" | "ip" | "service" | "route" | "plan" | "global" | `header:${string}` | `param:${string}`;
type PartReader = (exchange: Exchange) => string;

/** `ipv6Prefix`: IPv6 clients are counted by this prefix (server.ipv6Prefix), so one cannot rotate addresses. */
export function compileLimitKey(limitName: string, by: readonly string[], ipv6Prefix = 64): (exchange: Exchange) => string {
  const readers = by.filter((part) => part !== "global").map((part) => partReader(part as KeyPart, ipv6Prefix));
  if (readers.length === 0) return () => limitName;
  return (exchange) => {
    let key = limitName;
    for (const read of readers) key += "|" + read(exchange);
    return key;
  };
}

function partReader(part: KeyPart, ipv6Prefix: number): PartReader {
  const ip = (ex: Exchange) => `ip=${addressKey(ex.clientIp, ipv6Prefix)}`;
  switch (part) {
    // Authentication runs first, so a consumer is known today; should a route ever admit anonymous
    // callers, each address then counts alone instead of all of them sharing one counter.
    case "consumer": return (ex) => (ex.consumer ? `c=${ex.consumer.id}` : ip(ex));
    case "ip": return ip;
    case "service": return (ex) => `s=${ex.service?.name ?? ""}`;
    case "route": return (ex) => `r=${ex.route?.id ?? ""}`;
    case "plan": return (ex) => `p=${ex.consumer?.plan ?? ""}`;
    case "global": return () => "";
    default: {
      if (part.startsWith("param:")) {
        const param = part.slice("param:".length);
        // One spelling per value (../requestPath.ts), so `104%21` and `104!` share a counter.
        return (ex) => `${param}=${encodeURIComponent(segmentValue(ex.params?.[param] ?? ""))}`;
      }
      const header = part.slice("header:".length);
      return (ex) => {
        const value = ex.req.headers[header];
        return `h=${encodeURIComponent(Array.isArray(value) ? value.join(",") : (value ?? ""))}`;
      };
    }
  }
}
