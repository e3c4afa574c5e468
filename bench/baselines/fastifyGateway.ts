/**
 * Baseline `fastify-gateway`: a gateway as a Fastify 5 app is usually put together —
 * @fastify/http-proxy (reply-from over an undici pool) for `/api/users/*`, an `onRequest` hook
 * that checks `x-api-key` against the bench's keys, and @fastify/rate-limit (its in-memory store)
 * counting per consumer in `preHandler`, after the key check, with a limit that never refuses.
 * No logger.
 *
 *   UPSTREAM=http://127.0.0.1:9000 PORT=0 node --import tsx bench/baselines/fastifyGateway.ts
 */
import httpProxy from "@fastify/http-proxy";
import rateLimit from "@fastify/rate-limit";
import Fastify from "fastify";
import { keyTable } from "../lib/keys.js";
import { announce, baselineSettings, closeOnSignal, NEVER_REFUSED_PER_SECOND, POOL_OPTIONS, PREFIX, UNAUTHORIZED_BODY } from "./common.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The consumer whose key the onRequest hook accepted. */
    consumer: string;
  }
}

const NAME = "fastify-gateway";
const { upstream, port, host } = baselineSettings(NAME);
const consumers = keyTable();

const app = Fastify({ logger: false, keepAliveTimeout: 5_000 });
app.decorateRequest("consumer", "");

app.addHook("onRequest", (request, reply, done) => {
  const key = request.headers["x-api-key"];
  const consumer = typeof key === "string" ? consumers.get(key) : undefined;
  if (consumer === undefined) {
    void reply.code(401).type("application/problem+json").send(UNAUTHORIZED_BODY);
    return;
  }
  request.consumer = consumer;
  done();
});

await app.register(rateLimit, {
  hook: "preHandler",
  max: NEVER_REFUSED_PER_SECOND,
  timeWindow: 1_000,
  keyGenerator: (request) => request.consumer,
});
await app.register(httpProxy, { upstream, prefix: PREFIX, undici: POOL_OPTIONS });

await app.listen({ host, port });
announce(NAME, app.server.address());
closeOnSignal(() => app.close());
