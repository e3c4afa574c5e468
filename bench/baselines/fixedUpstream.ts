/**
 * The bench's upstream: bare node:http answering every GET with Sean's record, a fixed JSON body
 * formatted once. It shares the load core with wrk, so it must cost as little as possible: with
 * the demo users service (Fastify) there, that core was the bottleneck (`direct` at 21k req/s
 * against 66k for this), the gateway's core was not saturated, and every gateway's µs per request
 * rose and drifted with it.
 *
 *   PORT=0 node --import tsx bench/baselines/fixedUpstream.ts
 */
import { createServer } from "node:http";
import { announce, closeOnSignal } from "./common.js";

const NAME = "fixed upstream";
export const SEAN_BODY = Buffer.from(JSON.stringify({ user_id: 104, name: "Sean", segment: "ultra luxury" }));
const HEADERS = { "content-type": "application/json; charset=utf-8", "content-length": String(SEAN_BODY.length) };
const NOT_FOUND = Buffer.from('{"title":"Not Found"}');

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === "GET") res.writeHead(200, HEADERS).end(SEAN_BODY);
  else res.writeHead(404, { "content-type": "application/json", "content-length": String(NOT_FOUND.length) }).end(NOT_FOUND);
});
// Connections from the gateways stay open for the whole bench.
server.headersTimeout = 70_000;
server.listen(Number(process.env["PORT"] ?? "0"), process.env["HOST"] ?? "127.0.0.1", () => announce(NAME, server.address()));
closeOnSignal(() => new Promise<void>((resolve) => server.close(() => resolve())));
