/**
 * `sluice/express` (and `@sluice/client/express`): Sluice's rate limit as an Express middleware,
 * decided by the rate-limit service through a `RateLimitClient` (rateLimitOutcome.ts says what a
 * limited route answers).
 * Typed on node:http's request and response, so it needs no Express types at run time and fits
 * any Connect-style framework; a client error (a wrong token, an unknown policy) goes to `next`.
 *
 * @example
 * const client = new RateLimitClient({ url: "http://127.0.0.1:8080", token });
 * app.use("/api", rateLimit({ client, identifier: (req) => req.ip, limit: 100, duration: "1m" }));
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { PROBLEM_CONTENT_TYPE } from "../problems/problemDocument.js";
import { rateLimitOutcome, type RateLimitMiddlewareOptions } from "./rateLimitOutcome.js";

/** An Express request as far as the middleware reads it; `ip` is Express's client address (mind "trust proxy"). */
export type ExpressRequest = IncomingMessage & { readonly ip?: string | undefined };

export type ExpressRateLimitOptions<Request extends ExpressRequest = ExpressRequest> = RateLimitMiddlewareOptions<Request>;

export type ExpressMiddleware<Request extends ExpressRequest = ExpressRequest> = (req: Request, res: ServerResponse, next: (error?: unknown) => void) => void;

export function rateLimit<Request extends ExpressRequest = ExpressRequest>(options: ExpressRateLimitOptions<Request>): ExpressMiddleware<Request> {
  const decide = rateLimitOutcome(options);
  return function sluiceRateLimit(req, res, next) {
    decide(req, res).then((outcome) => {
      if (outcome === undefined) return next();
      for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value);
      if (outcome.problem === undefined) return next();
      const body = JSON.stringify(outcome.problem);
      res.writeHead(outcome.problem.status, { "content-type": PROBLEM_CONTENT_TYPE, "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
      res.end(body);
    }, next);
  };
}

export type { RateLimitOutcome } from "./rateLimitOutcome.js";
