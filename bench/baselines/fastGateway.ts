/**
 * Baseline `fast-gateway`: the gateway issue 7 names, as its README builds one — fast-gateway 3
 * (restana for the server, fast-proxy-lite over node:http keep-alive agents for the proxy) with
 * `/api/users` routed to the upstream, the prefix stripped, and two middlewares in front: the
 * `x-api-key` check against the bench's keys, then a per-consumer rate-limiter-flexible
 * `RateLimiterMemory` that never refuses (fast-gateway ships no limiter of its own; its README
 * plugs in express-rate-limit, which is not installed here). No logger.
 *
 * fast-gateway 3.4.7 rather than 5: version 5 needs fast-proxy-lite ^1.1.3, which the registry
 * here does not have.
 *
 *   UPSTREAM=http://127.0.0.1:9000 PORT=0 node --import tsx bench/baselines/fastGateway.ts
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import gateway from "fast-gateway";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { keyTable } from "../lib/keys.js";
import { announce, baselineSettings, closeOnSignal, NEVER_REFUSED_PER_SECOND, PREFIX, UNAUTHORIZED_BODY } from "./common.js";

const NAME = "fast-gateway";
const { upstream, port, host } = baselineSettings(NAME);
const consumers = keyTable();
const limiter = new RateLimiterMemory({ points: NEVER_REFUSED_PER_SECOND, duration: 1 });

type Middleware = (req: IncomingMessage & { consumer?: string }, res: ServerResponse, next: () => void) => void;

const checkKey: Middleware = (req, res, next) => {
  const key = req.headers["x-api-key"];
  const consumer = typeof key === "string" ? consumers.get(key) : undefined;
  if (consumer === undefined) {
    res.writeHead(401, { "content-type": "application/problem+json" }).end(UNAUTHORIZED_BODY);
    return;
  }
  req.consumer = consumer;
  next();
};

const rateLimit: Middleware = (req, res, next) => {
  limiter.consume(req.consumer!).then(
    () => next(),
    () => res.writeHead(429, { "content-type": "text/plain" }).end("too many requests\n"),
  );
};

const server = gateway({
  middlewares: [checkKey, rateLimit],
  routes: [{ prefix: PREFIX, target: upstream }],
});

const listening = await server.start(port, host);
announce(NAME, (listening as { address(): AddressInfo | string | null }).address());
closeOnSignal(() => server.close());
