/**
 * `sluice/fastify` (and `@sluice/client/fastify`): Sluice's rate limit on a Fastify application's
 * own routes, decided by the rate-limit service through a `RateLimitClient` (rateLimitOutcome.ts
 * says what a limited route answers). Two ways in:
 * - `sluiceRateLimit`, a plugin: every route of the context it is registered in, registered
 *   after it (it is not encapsulated, like a plugin wrapped in fastify-plugin);
 * - `rateLimitHook`, an onRequest hook for one route, or for `addHook` in a context of your own.
 * Typed on the application's Fastify, 4 or 5 (an optional peer dependency of `@sluice/client`).
 *
 * @example
 * const client = new RateLimitClient({ url: "http://127.0.0.1:8080", token });
 * await app.register(sluiceRateLimit, { client, identifier: (request) => request.ip, limit: 100, duration: "1m" });
 * app.get("/search", { onRequest: rateLimitHook({ client, identifier: (r) => r.ip, policy: "search" }) }, search);
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import { PROBLEM_CONTENT_TYPE } from "../problems/problemDocument.js";
import { rateLimitOutcome, type RateLimitMiddlewareOptions } from "./rateLimitOutcome.js";

export type FastifyRateLimitOptions = RateLimitMiddlewareOptions<FastifyRequest>;

/** An onRequest hook that limits the routes it runs for. */
export function rateLimitHook(options: FastifyRateLimitOptions): onRequestAsyncHookHandler {
  const decide = rateLimitOutcome(options);
  return async function sluiceRateLimit(request: FastifyRequest, reply: FastifyReply) {
    const outcome = await decide(request, reply.raw);
    if (outcome === undefined) return;
    void reply.headers(outcome.headers);
    if (outcome.problem === undefined) return;
    await reply.code(outcome.problem.status).type(PROBLEM_CONTENT_TYPE).header("cache-control", "no-store").serializer(JSON.stringify).send(outcome.problem);
  };
}

/** Limits every route registered after it in the context it is registered in. */
export const sluiceRateLimit: FastifyPluginCallback<FastifyRateLimitOptions> = (app, options, done) => {
  app.addHook("onRequest", rateLimitHook(options));
  done();
};
// Not encapsulated, so the hook reaches the routes of the registering context (what fastify-plugin does).
Object.assign(sluiceRateLimit, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "sluice-rate-limit" });

export type { RateLimitOutcome } from "./rateLimitOutcome.js";
