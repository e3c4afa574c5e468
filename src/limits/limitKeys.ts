/**
 * Builds the counter key of a limit for one request from the limit's `by` parts, e.g.
 * `per-client|c=demo` or `per-ip-route|ip=10.0.0.7|r=users:0`: the limit's name, then the
 * subject it counts (the Redis store makes the subject the key's hash tag). Parts are compiled once per limit
 * into a small list of readers, so the hot path only concatenates strings.
 *
 * A key reads a `LimitSubject`: what a request says about who is calling, and what. The gateway's
 * Exchange is one as it is (no object is made per request); the usage page and the limit
 * inspector build one for a caller to read its counters.
 */
import { addressKey } from "./addressKey.js";

/** What limit keys read of a request. */
export interface LimitSubject {
  readonly consumer?: { readonly id: string; readonly plan?: string | undefined } | undefined;
  /** The client address, as identified (edge/clientAddress.ts). */
  readonly clientIp: string;
  readonly service?: { readonly name: string } | undefined;
  readonly route?: { readonly id: string } | undefined;
  /** The route's `:name` path parameters. */
  readonly params?: Readonly<Record<string, string>> | undefined;
  readonly req: { readonly headers: Readonly<Record<string, string | readonly string[] | undefined>> };
}

/** Builds a limit's counter key for a subject. */
export type LimitKey = (subject: LimitSubject) => string;

type KeyPart = "consumer" | "ip" | "service" | "route" | "plan" | "global" | `header:${string}` | `param:${string}`;

/** `ipv6Prefix`: IPv6 clients are counted by this prefix (server.ipv6Prefix), so one cannot rotate addresses. */
export function compileLimitKey(limitName: string, by: readonly string[], ipv6Prefix = 64): LimitKey {
  const readers = by.filter((part) => part !== "global").map((part) => partReader(part as KeyPart, ipv6Prefix));
  if (readers.length === 0) return () => limitName;
  return (exchange) => {
    let key = limitName;
    for (const read of readers) key += "|" + read(exchange);
    return key;
  };
}

function partReader(part: KeyPart, ipv6Prefix: number): LimitKey {
  const ip = (ex: LimitSubject) => `ip=${addressKey(ex.clientIp, ipv6Prefix)}`;
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
        // One spelling per value (segmentValue, below), so `104%21` and `104!` share a counter.
        return (ex) => `${param}=${encodeURIComponent(segmentValue(ex.params?.[param] ?? ""))}`;
      }
      const header = part.slice("header:".length);
      return (ex) => {
        const value = ex.req.headers[header];
        return `h=${encodeURIComponent(typeof value === "string" ? value : (value?.join(",") ?? ""))}`;
      };
    }
  }
}

/**
 * One spelling of a path segment's value, for a counter's key: the escapes a normalized path
 * still holds decoded (`104%21` and `104!` are one value to the upstream's router). A value
 * that is not valid UTF-8 once decoded keeps its spelling. `segment` is a path segment without
 * its `;` parameters (gateway/requestPath.ts routingPath).
 *
 * @example
 * segmentValue("caf%C3%A9") // "café"
 */
export function segmentValue(segment: string): string {
  if (segment.indexOf("%") === -1) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
