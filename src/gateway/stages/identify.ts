/**
 * Stage 1, identify: who is on the other end of the socket, and which request this is.
 * The client address comes from the socket (trusted-proxy parsing of X-Forwarded-For arrives
 * with the limiter engine); an incoming `x-request-id` is kept when it is short and plain.
 */
import { randomUUID } from "node:crypto";
import type { Stage } from "../exchange.js";

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function identify(): Stage {
  return function identify(exchange) {
    const incoming = exchange.req.headers["x-request-id"];
    exchange.requestId = typeof incoming === "string" && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    exchange.clientIp = normalizeIp(exchange.req.socket.remoteAddress ?? "");
    return undefined;
  };
}

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; count them as a.b.c.d. */
export function normalizeIp(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
