/**
 * Stage 1, identify: who is on the other end of the socket, who the client behind it is, and
 * which request this is. The client is the right-most address no trusted proxy vouches for
 * (see edge/clientAddress.ts); with no trusted proxies configured it is the socket peer and
 * X-Forwarded-For is ignored. An incoming `x-request-id` is kept when it is short and plain.
 * A request whose framing other hops could read differently (edge/requestFraming.ts) stops here.
 */
import { randomUUID } from "node:crypto";
import { problems } from "../../problems/catalogue.js";
import { clientAddress, peerAddress, type TrustFunction } from "../../edge/clientAddress.js";
import type { Stage } from "../exchange.js";
import { framingProblem } from "../../edge/requestFraming.js";

const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** `trust` comes from `compileTrust(server.trustedProxies)`; the default trusts nobody. */
export function identify(trust?: TrustFunction): Stage {
  return function identify(exchange) {
    const incoming = exchange.req.headers["x-request-id"];
    exchange.requestId = typeof incoming === "string" && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    exchange.peerIp = peerAddress(exchange.req);
    exchange.clientIp = trust === undefined ? exchange.peerIp : clientAddress(exchange.req, trust);
    const framing = framingProblem(exchange.req);
    return framing === undefined ? undefined : { kind: problems.badRequest, detail: framing, headers: { connection: "close" } };
  };
}
