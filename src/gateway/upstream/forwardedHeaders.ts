/**
 * The request headers an upstream receives: the client's, minus hop-by-hop ones (including every
 * header named in `Connection`), the ones the gateway owns and Sluice's own cookies and secrets
 * (ownCredentials.ts), plus who and what the gateway saw.
 *
 * Forwarding headers are believed only from a trusted peer (server.trustedProxies): then the
 * upstream gets the trusted part of the incoming X-Forwarded-For chain with the peer appended,
 * the incoming X-Forwarded-Proto/-Host, and the incoming `Forwarded` (RFC 7239) with this hop's
 * element appended. From anyone else they are dropped and start afresh at the peer, so every
 * entry an upstream sees was written by a proxy it can trust through Sluice.
 *
 * With tracing on (gateway/tracing.ts), `traceparent` and `tracestate` are the gateway's
 * own, naming its span of the upstream call; with tracing off they pass as the client sent them.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import proxyaddr from "proxy-addr";
import type { TrustFunction } from "../../edge/clientAddress.js";
import type { Exchange } from "../exchange.js";
import { API_KEY_HEADER } from "../../config/headerNames.js";
import { GATEWAY_OWNED, HOP_BY_HOP } from "../../config/headerNames.js";
import { carriesOwnSecret, withoutOwnCookies } from "./ownCredentials.js";
import type { HeaderRewrites } from "./rewrites.js";

/** `adminToken`: SLUICE_ADMIN_TOKEN, never forwarded (ownCredentials.ts); none when undefined. */
export function upstreamRequestHeaders(exchange: Exchange, trust: TrustFunction | undefined, rewrites: HeaderRewrites | undefined, adminToken?: string): Record<string, string | string[]> {
  const { req } = exchange;
  const incoming = req.headers;
  const out: Record<string, string | string[]> = {};
  const named = connectionHeaders(incoming);
  const drop = rewrites?.drop;
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name) || named?.has(name) || drop?.has(name)) continue;
    let value = incoming[name];
    // Sluice's own cookies and secrets stay here (ownCredentials.ts); node joins repeated Cookie headers into one.
    if (name === "cookie") value = withoutOwnCookies(value as string);
    else if (name === "authorization" && carriesOwnSecret(value as string, incoming[API_KEY_HEADER], adminToken)) continue;
    if (value !== undefined) out[name] = value;
  }
  if (rewrites !== undefined) for (const [name, value] of rewrites.set) out[name] = value;

  const peer = exchange.peerIp;
  const proto = (req.socket as TLSSocket).encrypted ? "https" : "http";
  const host = incoming.host;
  const element = forwardedElement(peer, host, proto);
  if (trust !== undefined && trust(peer, 0)) {
    out["x-forwarded-for"] = incoming["x-forwarded-for"] === undefined ? peer : trustedChain(req, peer, trust);
    out["x-forwarded-proto"] = firstValue(incoming["x-forwarded-proto"]) ?? proto;
    const forwardedHost = firstValue(incoming["x-forwarded-host"]) ?? host;
    if (forwardedHost !== undefined) out["x-forwarded-host"] = forwardedHost;
    const forwarded = incoming.forwarded;
    out.forwarded = forwarded === undefined ? element : `${String(forwarded)}, ${element}`;
  } else {
    out["x-forwarded-for"] = peer;
    out["x-forwarded-proto"] = proto;
    if (host !== undefined) out["x-forwarded-host"] = host;
    out.forwarded = element;
  }
  out["x-request-id"] = exchange.requestId;
  if (exchange.consumer) out["x-consumer-id"] = exchange.consumer.id;
  // Tracing on: the upstream's traceparent names the gateway's CLIENT span, not the client's span.
  exchange.trace?.upstreamHeaders(exchange, out);
  return out;
}

/**
 * Headers listed in `Connection` are hop-by-hop too (RFC 9110 §7.6.1). Nearly every message
 * says just "keep-alive" or "close", which name no header: no set to build for those.
 */
export function connectionHeaders(headers: IncomingHttpHeaders): Set<string> | undefined {
  const connection = headers.connection;
  if (connection === undefined) return undefined;
  const value = String(connection).toLowerCase();
  if (value === "keep-alive" || value === "close") return undefined;
  return new Set(value.split(",").map((token) => token.trim()));
}

/** This hop's `Forwarded` element: who connected, the Host it asked for, and the scheme. */
function forwardedElement(peer: string, host: string | undefined, proto: string): string {
  const node = peer === "" ? "unknown" : peer.includes(":") ? `"[${peer}]"` : peer;
  return host === undefined ? `for=${node};proto=${proto}` : `for=${node};host=${quote(host)};proto=${proto}`;
}

function quote(value: string): string {
  return value.includes('"') || value.includes("\\") ? `"${value.replace(/["\\]/g, "\\$&")}"` : `"${value}"`;
}

/** The incoming X-Forwarded-For entries that trusted proxies vouch for, then the peer: "client, proxy, peer". */
function trustedChain(req: IncomingMessage, peer: string, trust: TrustFunction): string {
  const header = req.headers["x-forwarded-for"];
  // proxy-addr (via `forwarded`) throws on an array header; join repeated headers as Node does.
  const source = Array.isArray(header) ? { socket: req.socket, headers: { "x-forwarded-for": header.join(",") } } : req;
  const chain = proxyaddr.all(source as IncomingMessage, trust);
  chain[0] = peer; // the socket's address as identify wrote it (IPv4-mapped IPv6 unmapped)
  return chain.reverse().join(", ");
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
