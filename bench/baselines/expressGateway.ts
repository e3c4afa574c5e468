/**
 * Baseline `express-gateway`: Express 5 + http-proxy-middleware (over a keep-alive node:http
 * Agent, as anyone would configure it for a proxy; its default opens a connection per request),
 * an `x-api-key` check against the bench's keys, and a per-consumer rate-limiter-flexible
 * `RateLimiterMemory` as middleware (express-rate-limit is not installed here), with a limit that
 * never refuses. No logger, no ETag.
 *
 *   UPSTREAM=http://127.0.0.1:9000 PORT=0 node --import tsx bench/baselines/expressGateway.ts
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { createProxyMiddleware } from "http-proxy-middleware";
import { Agent } from "node:http";
import { RateLimiterMemory } from "rate-limiter-flexible";
import { keyTable } from "../lib/keys.js";
import { announce, baselineSettings, closeOnSignal, NEVER_REFUSED_PER_SECOND, POOL_OPTIONS, PREFIX, UNAUTHORIZED_BODY } from "./common.js";

const NAME = "express-gateway";
const { upstream, port, host } = baselineSettings(NAME);
const consumers = keyTable();
const limiter = new RateLimiterMemory({ points: NEVER_REFUSED_PER_SECOND, duration: 1 });
const agent = new Agent({ keepAlive: true, maxSockets: POOL_OPTIONS.connections });

function checkKey(req: Request, res: Response, next: NextFunction): void {
  const key = req.headers["x-api-key"];
  const consumer = typeof key === "string" ? consumers.get(key) : undefined;
  if (consumer === undefined) {
    res.status(401).type("application/problem+json").send(UNAUTHORIZED_BODY);
    return;
  }
  res.locals["consumer"] = consumer;
  next();
}

function limit(_req: Request, res: Response, next: NextFunction): void {
  limiter.consume(res.locals["consumer"] as string).then(
    () => next(),
    () => res.status(429).send("too many requests\n"),
  );
}

const app = express();
app.disable("x-powered-by");
app.disable("etag");
app.use(PREFIX, checkKey, limit, createProxyMiddleware({ target: upstream, agent }));

const server = app.listen(port, host, () => announce(NAME, server.address()));
server.keepAliveTimeout = 5_000;
closeOnSignal(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  agent.destroy();
});
