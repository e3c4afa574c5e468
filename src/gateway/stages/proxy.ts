/**
 * Stage 5, proxy: forwards the request over the service's keep-alive pool (undici) and streams
 * the response back with backpressure; nothing is buffered whole. Hop-by-hop headers are dropped
 * both ways, the client's API key never reaches the upstream, and the upstream learns who called
 * through `x-consumer-id` (which clients cannot set themselves).
 */
import type { IncomingHttpHeaders } from "node:http";
import type { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import { problems } from "../../problems/catalogue.js";
import { sendProblem } from "../../problems/problemDocument.js";
import type { Exchange, Stage } from "../exchange.js";
import { API_KEY_HEADER } from "./authenticate.js";

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus proxy-only ones. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-authenticate"]);
/** Request headers the gateway sets itself and never takes from the client. */
const GATEWAY_OWNED = new Set(["host", API_KEY_HEADER, "x-consumer-id", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]);

export function proxy(logger: Logger): Stage {
  return function proxy(exchange) {
    const { req, res, service } = exchange;
    const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    service!.pool.stream(
      {
        path: exchange.upstreamPath,
        method: req.method ?? "GET",
        headers: upstreamRequestHeaders(exchange),
        body: hasBody ? req : null,
      },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, clientResponseHeaders(headers, exchange));
        return res;
      },
      (error) => {
        if (error) upstreamFailed(exchange, error, logger);
      },
    );
    return undefined;
  };
}

function upstreamRequestHeaders(exchange: Exchange): Record<string, string | string[]> {
  const { req } = exchange;
  const out: Record<string, string | string[]> = {};
  const named = connectionHeaders(req.headers);
  for (const name in req.headers) {
    if (HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name) || named?.has(name)) continue;
    const value = req.headers[name];
    if (value !== undefined) out[name] = value;
  }
  const forwardedFor = req.headers["x-forwarded-for"];
  out["x-forwarded-for"] = forwardedFor ? `${String(forwardedFor)}, ${exchange.peerIp}` : exchange.peerIp;
  out["x-forwarded-proto"] = (req.socket as TLSSocket).encrypted ? "https" : "http";
  if (req.headers.host) out["x-forwarded-host"] = req.headers.host;
  out["x-request-id"] = exchange.requestId;
  if (exchange.consumer) out["x-consumer-id"] = exchange.consumer.id;
  return out;
}

function clientResponseHeaders(upstream: IncomingHttpHeaders, exchange: Exchange): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = connectionHeaders(upstream);
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  out["x-request-id"] = exchange.requestId;
  if (exchange.rateLimitHeaders) Object.assign(out, exchange.rateLimitHeaders);
  return out;
}

/**
 * Headers listed in `Connection` are hop-by-hop too (RFC 9110 §7.6.1). Nearly every message
 * says just "keep-alive" or "close", which name no header: no set to build for those.
 */
function connectionHeaders(headers: IncomingHttpHeaders): Set<string> | undefined {
  const connection = headers.connection;
  if (connection === undefined) return undefined;
  const value = String(connection).toLowerCase();
  if (value === "keep-alive" || value === "close") return undefined;
  return new Set(value.split(",").map((token) => token.trim()));
}

const TIMEOUTS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

function upstreamFailed(exchange: Exchange, error: Error, logger: Logger): void {
  const { res, service } = exchange;
  const code = (error as { code?: string }).code ?? "";
  if (res.destroyed || code === "UND_ERR_ABORTED") return; // the client went away; nothing to answer
  logger.warn({ requestId: exchange.requestId, service: service!.name, code, message: error.message }, "upstream request failed");
  const headers = { "x-request-id": exchange.requestId };
  if (TIMEOUTS.has(code)) {
    sendProblem(res, problems.upstreamTimeout, `Service "${service!.name}" did not answer within ${service!.timeoutMs / 1000}s.`, headers);
  } else {
    sendProblem(res, problems.upstreamUnavailable, `Service "${service!.name}" could not be reached.`, headers);
  }
}
