/**
 * Baseline `fastify-proxy`: the same pass-through as `node-proxy`, written the way a Fastify 5
 * app would: one wildcard route, `pool.request`, and the upstream's body handed to `reply.send`
 * as a stream. No auth, no limit, no logger. The gap between this and `node-proxy` is what
 * running the hot path inside Fastify (routing, request/reply objects, hooks, send) costs.
 *
 *   UPSTREAM=http://127.0.0.1:9000 PORT=0 node --import tsx bench/baselines/fastifyProxy.ts
 */
import Fastify from "fastify";
import { Pool } from "undici";
import { announce, baselineSettings, closeOnSignal, POOL_OPTIONS, PREFIX } from "./common.js";

const NAME = "fastify-proxy";
const { upstream, port, host } = baselineSettings(NAME);
const pool = new Pool(upstream, POOL_OPTIONS);

const app = Fastify({ logger: false, keepAliveTimeout: 5_000 });

app.get(`${PREFIX}/*`, async (request, reply) => {
  const { statusCode, headers, body } = await pool.request({ path: request.url.slice(PREFIX.length), method: "GET" });
  reply.code(statusCode);
  const type = headers["content-type"];
  const length = headers["content-length"];
  if (typeof type === "string") reply.header("content-type", type);
  if (typeof length === "string") reply.header("content-length", length);
  return reply.send(body);
});

app.addHook("onClose", () => pool.close());
await app.listen({ host, port });
announce(NAME, app.server.address());
closeOnSignal(() => app.close());
