/**
 * The request body as the proxy stage forwards it, held to the route's size limit. A body with
 * a Content-Length was already checked by the route stage, before any of it was read, and node's
 * parser delivers exactly that many bytes: it streams as it is. A chunked body declares no size,
 * so it streams through a counter that, once the limit is passed, stops passing bytes on and
 * answers 413 with `Connection: close`. The response's close then aborts the upstream request
 * (the proxy stage's client-gone path, which blames no target), so the upstream sees a request
 * whose body never completed.
 *
 * A client that sent `Expect: 100-continue` is invited to send its body here too, and only here:
 * the edge server holds node's automatic `100 Continue` back (edge/edgeServer.ts), so a request that
 * authentication, routing or the limits refuse gets its final answer without one, and its body
 * is never sent. The `Expect` header itself is not forwarded: undici sends the body at once.
 */
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { problems } from "../problems/catalogue.js";
import { releaseContinue } from "../edge/edgeServer.js";
import type { Exchange, Rejection } from "./exchange.js";

/** Called once, by the proxy stage, for a request that has a body: the body is wanted now. */
export function requestBody(exchange: Exchange): Readable {
  const { req, maxBodySize } = exchange;
  releaseContinue(req, exchange.res);
  if (req.headers["content-length"] !== undefined || maxBodySize === Infinity) return req;
  return req.pipe(new BodyCounter(exchange));
}

/** The connection closes after the answer: the unread rest of the body is not drained. */
export function bodyTooLarge(limit: number): Rejection {
  return { kind: problems.payloadTooLarge, detail: `The request body is larger than the ${limit} bytes this route accepts.`, headers: { connection: "close" } };
}

class BodyCounter extends Transform {
  private received = 0;

  constructor(private readonly exchange: Exchange) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length;
    const limit = this.exchange.maxBodySize;
    if (this.received <= limit) {
      callback(null, chunk);
      return;
    }
    // The callback is never called: nothing more flows upstream, and the answer's close aborts the call.
    this.exchange.req.unpipe(this);
    const { kind, detail, headers } = bodyTooLarge(limit);
    this.exchange.answerProblem(kind, detail, headers);
  }
}
