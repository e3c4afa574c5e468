/**
 * Stage 6, proxy: sends the request to one of the service's targets (the balancer skips
 * unhealthy and ejected ones) over its keep-alive pool, and streams the response back with
 * backpressure; nothing is buffered whole, so server-sent events flow as they come.
 *
 * Each request is one `ProxyCall`, which is undici's dispatch handler itself: no stream
 * wrappers and no closures per request. The call reports to the target's circuit breaker,
 * counts the target's requests in flight, and ends in one of four ways:
 * - the response, streamed (its headers minus hop-by-hop ones and any Set-Cookie of Sluice's own
 *   cookies, plus the request id, the limits, `nosniff` and for content that is not an API's a
 *   sandbox: upstream/contentSandbox.ts);
 * - a retry on another target, only for an idempotent request without a body whose connection
 *   failed (nothing was sent), within the service's retry budget;
 * - a problem document: 504 on a timeout (connect, headers, total), 502 when the target could
 *   not be reached or broke the connection before answering;
 * - a cut connection, when the upstream fails after the response has begun.
 * An upgrade to WebSocket on a route that allows it is tunnelled (upstream/webSocketTunnel.ts).
 */
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { util, type Dispatcher } from "undici";
import { problems } from "../../problems/catalogue.js";
import type { TrustFunction } from "../../edge/clientAddress.js";
import type { Exchange, Stage } from "../exchange.js";
import { requestBody } from "../requestBody.js";
import type { CompiledService } from "../routeTable.js";
import { HOP_BY_HOP } from "../../config/headerNames.js";
import { upstreamRequestHeaders } from "../upstream/forwardedHeaders.js";
import { isApiContentType, NOSNIFF, SANDBOX } from "../upstream/contentSandbox.js";
import { setsOwnCookie } from "../upstream/ownCredentials.js";
import { rewritePath, type HeaderRewrites } from "../upstream/rewrites.js";
import type { UpstreamTarget } from "../upstream/target.js";
import { acceptUpgrade, isWebSocketUpgrade } from "../upstream/webSocketTunnel.js";

/** `adminToken` (SLUICE_ADMIN_TOKEN) is one of the secrets never forwarded (upstream/ownCredentials.ts). */
export function proxy(logger: Logger, trust?: TrustFunction, adminToken?: string): Stage {
  return function proxy(exchange) {
    const { req, service, route } = exchange;
    const target = service!.balancer.pick(undefined);
    if (target === undefined) {
      exchange.answerProblem(problems.upstreamUnavailable, `Service "${service!.name}" has no healthy target.`);
      return undefined;
    }
    const rewrites = route!.rewrites;
    // node:http marks a request that arrived through its 'upgrade' event (not typed in @types/node).
    const upgrade = (req as { upgrade?: boolean }).upgrade === true && route!.websocket && isWebSocketUpgrade(req);
    const hasBody = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
    const options: Dispatcher.DispatchOptions = {
      path: rewrites === undefined ? exchange.upstreamPath : rewritePath(rewrites, exchange.upstreamPath),
      method: req.method ?? "GET",
      headers: upstreamRequestHeaders(exchange, trust, rewrites?.request, adminToken),
      body: hasBody ? requestBody(exchange) : null,
      upgrade: upgrade ? "websocket" : null,
    };
    service!.retry?.budget.requested();
    new ProxyCall(exchange, options, hasBody, logger).send(target);
    return undefined;
  };
}

const RESPONSE = Symbol("proxy call");
type ProxiedResponse = ServerResponse & { [RESPONSE]?: ProxyCall };

/** Errors a call aborts itself with; preallocated, as they carry no per-request detail. */
const CLIENT_GONE = Object.assign(new Error("the client closed the connection"), { code: "SLUICE_CLIENT_GONE" });
const TOTAL_TIMEOUT = Object.assign(new Error("the upstream exchange took longer than the service's totalTimeout"), { code: "SLUICE_TOTAL_TIMEOUT" });

const TIMEOUTS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT", TOTAL_TIMEOUT.code]);
/** Failures that happen before a connection exists, so the upstream received nothing. */
const NOTHING_SENT = new Set(["ECONNREFUSED", "UND_ERR_CONNECT_TIMEOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND"]);
/** Safe to send twice (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

/** One proxied request: undici's (classic) dispatch handler, reused for each attempt. */
class ProxyCall implements Dispatcher.DispatchHandler {
  #target: UpstreamTarget | undefined;
  #abort: ((reason?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempts = 0;
  #responded = false;
  #settled = false;
  /** Why the call was aborted before undici handed out its abort function. */
  #abortReason: Error | undefined;

  constructor(
    private readonly exchange: Exchange,
    private readonly options: Dispatcher.DispatchOptions,
    private readonly hasBody: boolean,
    private readonly logger: Logger,
  ) {
    const res = exchange.res as ProxiedResponse;
    res[RESPONSE] = this;
    res.on("close", responseClosed);
    const total = exchange.service!.totalTimeoutMs;
    if (total > 0) this.#timer = setTimeout(totalTimedOut, total, this);
  }

  send(target: UpstreamTarget): void {
    this.#target = target;
    this.#settled = false;
    target.inFlight++;
    if (this.#attempts === 0) this.exchange.upstreamStartedAt = performance.now();
    this.exchange.trace?.upstreamAttempt(target.url, this.#attempts);
    target.pool.dispatch(this.options, this);
  }

  abort(reason: Error): void {
    if (this.#settled) return;
    if (this.#abort === undefined) this.#abortReason = reason;
    else this.#abort(reason);
  }

  onConnect(abort: (reason?: Error) => void): void {
    this.#abort = abort;
    if (this.#abortReason !== undefined) abort(this.#abortReason);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: interim, the real response follows
    this.#responded = true;
    this.#resume = resume;
    const { exchange } = this;
    exchange.upstreamRespondedAt = performance.now();
    if (statusCode === 502 || statusCode === 503 || statusCode === 504) this.#target!.breaker.failed();
    else this.#target!.breaker.succeeded();
    exchange.res.writeHead(statusCode, clientResponseHeaders(rawHeaders, exchange, exchange.route!.rewrites?.response));
    return true;
  }

  onData(chunk: Buffer): boolean {
    const { res } = this.exchange;
    if (res.write(chunk)) return true;
    // Backpressure: undici stops reading the upstream until the client has taken this in.
    res.once("drain", this.#resume!);
    return false;
  }

  onComplete(): void {
    this.#settle();
    this.exchange.res.end();
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    this.#responded = true;
    this.#settle();
    this.#target!.breaker.succeeded();
    this.exchange.upstreamRespondedAt = performance.now();
    acceptUpgrade(this.exchange.res, statusCode, rawHeaders ?? [], socket);
  }

  onError(error: Error): void {
    const target = this.#target!;
    this.#settle();
    const code = (error as { code?: string }).code ?? "";
    const { exchange } = this;
    const { res } = exchange;
    if (error === CLIENT_GONE || res.destroyed) return; // nobody left to answer
    target.breaker.failed();
    if (this.#canRetry(code)) {
      const next = exchange.service!.balancer.pick(target);
      if (next !== undefined) {
        this.#attempts++;
        this.#abort = undefined;
        this.send(next);
        return;
      }
    }
    const service = exchange.service!;
    this.logger.warn({ requestId: exchange.requestId, service: service.name, target: target.url.origin, code, message: error.message }, "upstream request failed");
    if (res.headersSent) res.destroy(error); // the response has begun: the client sees it cut off
    else answerFailure(exchange, service, code);
  }

  #canRetry(code: string): boolean {
    const retry = this.exchange.service!.retry;
    return retry !== undefined && !this.#responded && this.#attempts < retry.attempts && NOTHING_SENT.has(code) && !this.hasBody
      && IDEMPOTENT.has(this.options.method) && retry.budget.tryRetry();
  }

  /** Marks the attempt over: the target's count goes down once and a finished call's timer stops. */
  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#target!.inFlight--;
  }

  /** The response has closed (finished or the client left): stop the timer, and the upstream if still going. */
  closed(): void {
    clearTimeout(this.#timer);
    this.abort(CLIENT_GONE);
  }
}

function responseClosed(this: ProxiedResponse): void {
  this[RESPONSE]!.closed();
}

function totalTimedOut(call: ProxyCall): void {
  call.abort(TOTAL_TIMEOUT);
}

function answerFailure(exchange: Exchange, service: CompiledService, code: string): void {
  if (TIMEOUTS.has(code)) {
    const detail = code === TOTAL_TIMEOUT.code ? `within ${service.totalTimeoutMs / 1000}s in total`
      : code === "UND_ERR_CONNECT_TIMEOUT" ? "to the connection in time" : `within ${service.timeoutMs / 1000}s`;
    exchange.answerProblem(problems.upstreamTimeout, `Service "${service.name}" did not answer ${detail}.`);
  } else {
    exchange.answerProblem(problems.upstreamUnavailable, `Service "${service.name}" could not be reached.`);
  }
}

/**
 * The upstream's response headers for the client, as the flat [name, value, …] list that
 * `writeHead` takes: hop-by-hop ones dropped (including those named in `Connection`) and so is
 * a Set-Cookie of one of Sluice's cookies, the route's rewrites applied, the gateway's own
 * (request id, rate limits) replacing any the upstream sent, and `nosniff`, plus a sandbox for
 * content that is not an API's (upstream/contentSandbox.ts).
 */
function clientResponseHeaders(raw: Buffer[], exchange: Exchange, rewrites: HeaderRewrites | undefined): string[] {
  const out: string[] = [];
  const limits = exchange.rateLimitHeaders;
  let connection: string | undefined;
  let contentType: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    // Known names come from undici's table, already lower-case: no string made per header.
    const name = util.headerNameToString(raw[i]!);
    if (name === "connection") connection = raw[i + 1]!.toString("latin1").toLowerCase();
    if (HOP_BY_HOP.has(name) || name === "x-request-id" || name === "x-content-type-options" || (limits !== undefined && Object.hasOwn(limits, name)) || rewrites?.drop.has(name)) continue;
    const value = raw[i + 1]!.toString("latin1");
    if (name === "set-cookie" && setsOwnCookie(value)) continue;
    if (name === "content-type") contentType = value;
    out.push(name, value);
  }
  if (connection !== undefined && connection !== "keep-alive" && connection !== "close") {
    dropNamed(out, connection);
    contentType = valueOf(out, "content-type"); // `Connection: content-type` must not slip HTML past the sandbox
  }
  if (rewrites !== undefined) {
    for (const [name, value] of rewrites.set) {
      out.push(name, value);
      if (name === "content-type") contentType = value;
    }
  }
  out.push("x-request-id", exchange.requestId, "x-content-type-options", NOSNIFF);
  if (!isApiContentType(contentType)) out.push("content-security-policy", SANDBOX);
  if (limits !== undefined) for (const name in limits) out.push(name, limits[name]!);
  return out;
}

function valueOf(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

/** Removes, in place, the headers a `Connection` value names (rare: most name none). */
function dropNamed(headers: string[], connection: string): void {
  const named = new Set(connection.split(",").map((token) => token.trim()));
  let kept = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if (named.has(headers[i]!)) continue;
    headers[kept++] = headers[i]!;
    headers[kept++] = headers[i + 1]!;
  }
  headers.length = kept;
}
