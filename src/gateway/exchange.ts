/**
 * One request's journey through the gateway. Stages fill it in order — identify sets the client,
 * authenticate the consumer, route the service and route, limit the rate-limit headers — and the
 * proxy stage reads it. A class with every field declared up front keeps one object shape (fast
 * property access on the hot path).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Consumer } from "../accounts/consumer.js";
import type { ProblemKind } from "../problems/catalogue.js";
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
  /** RateLimit headers of an admitted request, added to the upstream's response. */
  rateLimitHeaders: Record<string, string> | undefined = undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {}
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
