/**
 * Which control-plane requests have their body read. Parsing JSON is work on the one main thread
 * (1 MiB of nested brackets takes tens of milliseconds), so nobody gets it for free:
 *
 * - A route that takes a body says so, and how large, with `takesBody(limit)` in its options.
 * - Any other request that declares a body — a path that does not exist, a route that takes none,
 *   a method a path does not have — is answered before a byte of the body is read: 404 when there
 *   is no such route, else 413, and its connection is closed (as Fastify does past a route's
 *   limit), since the rest of the body would otherwise have to be read to find the next request.
 * - Routes that need a caller (a session: sessionAuth.ts `userRequired`; the admin token or an
 *   admin's session: the admin API) check it in an onRequest hook, which runs before the body is
 *   read. Only sign-up and sign-in read a stranger's body, and theirs are small.
 *
 * @example
 * refuseUnreadBodies(app); // once, before the routes
 * app.post("/auth/login", takesBody(SMALL_BODY_LIMIT), handler);
 */
import type { FastifyInstance } from "fastify";
import { declaresBody } from "../edge/requestFraming.js";
import { problems } from "../problems/catalogue.js";
import { replyNotFound, replyProblem } from "../problems/fastifyProblems.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Set by `takesBody`: the route reads a body. */
    readonly takesBody?: boolean;
  }
}

/** Route options of a route that reads a body of at most `bodyLimit` bytes (413 past it). */
export function takesBody(bodyLimit: number): { readonly bodyLimit: number; readonly config: { readonly takesBody: true } } {
  return { bodyLimit, config: { takesBody: true } };
}

/** Answers every request with a body its route does not take, before the body is read. */
export function refuseUnreadBodies(app: FastifyInstance): void {
  app.addHook("onRequest", async function refuseUnreadBody(request, reply) {
    if (request.routeOptions.config.takesBody === true || !declaresBody(request.raw)) return;
    reply.header("connection", "close");
    if (request.is404) return replyNotFound(request, reply);
    return replyProblem(reply, problems.payloadTooLarge, `${request.method} ${request.routeOptions.url ?? ""} takes no request body.`);
  });
}
