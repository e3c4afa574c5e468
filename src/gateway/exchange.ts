/**
 * One request's journey through the gateway. Stages fill it in order — identify sets the client,
 * authenticate the consumer, route the service and route, limit the rate-limit headers — and the
 * proxy stage reads it. When the response ends, the gateway observer (observability/) reads it
 * once more for the metrics and the access log. A class with every field declared up front keeps
 * one object shape (fast property access on the hot path).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Consumer } from "../accounts/consumer.js";
import type { Verdict } from "../limiter/decision.js";
import type { RequestTrace } from "./tracing.js";
import type { ProblemKind } from "../problems/catalogue.js";
import { sendProblem } from "../problems/problemDocument.js";
import type { CompiledRoute, CompiledService } from "./routeTable.js";

export class Exchange {
  requestId = "";
  /** The socket peer: the client itself, or the nearest proxy in front of the gateway. */
  peerIp = "";
  /** The client: the peer, or the address a trusted proxy reported for it (server.trustedProxies). */
  clientIp = "";
  consumer: Consumer | undefined = undefined;
  service: CompiledService | undefined = undefined;
  route: CompiledRoute | undefined = undefined;
  /** Values of the route's ":name" path segments. */
  params: Readonly<Record<string, string>> | undefined = undefined;
  /** Path and query to send upstream (the service's base path + the rest of the request path). */
  upstreamPath = "";
  /** Most request-body bytes the route accepts (route stage); a chunked body is counted against it as it streams (requestBody.ts). */
  maxBodySize = Infinity;
  /** RateLimit headers of an admitted request, added to the upstream's response. */
  rateLimitHeaders: Record<string, string> | undefined = undefined;
  /** What the limits decided (the limit stage), for the access log; undefined when none were checked. */
  verdict: Verdict | undefined = undefined;
  /** The problem the gateway answered with itself, if it did (refusals, failures, unreachable upstreams). */
  problem: ProblemKind | undefined = undefined;
  /** performance.now() readings: arrival, the upstream request sent, its response headers (0: not yet). */
  readonly startedAt = performance.now();
  /** Called once when the response closes, after the observers (the live gateway's in-flight count). */
  ended: (() => void) | undefined = undefined;
  upstreamStartedAt = 0;
  upstreamRespondedAt = 0;
  /** The request's spans, when tracing is on (gateway/tracing.ts); undefined when off. */
  trace: RequestTrace | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}

  /** Answers with a problem, tagged with the request id and remembered for the metrics and the access log. */
  answerProblem(kind: ProblemKind, detail: string, headers?: Record<string, string>): void {
    if (!this.res.headersSent) this.problem = kind; // else the response is cut off, not answered
    sendProblem(this.res, kind, detail, { ...headers, "x-request-id": this.requestId });
  }
}

/** A stage's refusal: the pipeline stops and answers with this problem. */
export interface Rejection {
  readonly kind: ProblemKind;
  readonly detail: string;
  readonly headers?: Record<string, string>;
}

/**
 * A pipeline stage: continue (undefined), refuse (a Rejection), or either later (a Promise).
 * Synchronous stages return synchronously so a request that needs no I/O allocates no promise.
 */
export type Stage = (exchange: Exchange) => Rejection | undefined | Promise<Rejection | undefined>;
