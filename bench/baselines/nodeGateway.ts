/**
 * Baseline `node-gateway`: the hand-written Node gateway — bare node:http, an undici Pool
 * streaming the upstream's answer back (`pool.stream`, like `node-proxy` and the gateway's proxy
 * stage), an `x-api-key` check against the bench's keys, and a per-consumer rate-limiter-flexible
 * `RateLimiterMemory` that never refuses. The fastest way we know to build a Node gateway from
 * well-kept parts; it hashes no key and rewrites no request header.
 *
 *   UPSTREAM=http://127.0.0.1:9000 PORT=0 node --import tsx bench/baselines/nodeGateway.ts
 */
import { createServer } from "node:http";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { Pool } from "undici";
import { keyTable } from "../lib/keys.js";
import { announce, baselineSettings, closeOnSignal, forward, NEVER_REFUSED_PER_SECOND, POOL_OPTIONS, PREFIX, UNAUTHORIZED_BODY } from "./common.js";

const NAME = "node-gateway";
const { upstream, port, host } = baselineSettings(NAME);
const pool = new Pool(upstream, POOL_OPTIONS);
const consumers = keyTable();
const limiter = new RateLimiterMemory({ points: NEVER_REFUSED_PER_SECOND, duration: 1 });


const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
  const url = req.url ?? "/";
  if (req.method !== "GET" || !url.startsWith(`${PREFIX}/`)) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  const key = req.headers["x-api-key"];
  const consumer = typeof key === "string" ? consumers.get(key) : undefined;
  if (consumer === undefined) {
    res.writeHead(401, { "content-type": "application/problem+json" }).end(UNAUTHORIZED_BODY);
    return;
  }
  limiter.consume(consumer).then(
    () => forward(pool, res, url.slice(PREFIX.length)),
    () => res.writeHead(429, { "content-type": "text/plain" }).end("too many requests\n"),
  );
});

server.listen(port, host, () => announce(NAME, server.address()));
closeOnSignal(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.close();
});
