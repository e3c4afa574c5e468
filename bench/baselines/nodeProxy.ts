/**
 * Baseline `node-proxy`: the smallest pass-through proxy there is, bare node:http + an undici Pool,
 * streaming the upstream's response into the client's with `pool.stream` exactly as the gateway's
 * proxy stage does. Against it, `sluice` shows what the pipeline (request id, API key hash,
 * routing, rate limit, header filtering) costs; against the gateways beside it, what each adds.
 *
 *   UPSTREAM=http://127.0.0.1:9000 PORT=0 node --import tsx bench/baselines/nodeProxy.ts
 */
import { createServer } from "node:http";
import { Pool } from "undici";
import { announce, baselineSettings, closeOnSignal, forward, POOL_OPTIONS, PREFIX } from "./common.js";

const NAME = "node-proxy";
const { upstream, port, host } = baselineSettings(NAME);
const pool = new Pool(upstream, POOL_OPTIONS);

const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
  const url = req.url ?? "/";
  if (req.method !== "GET" || !url.startsWith(`${PREFIX}/`)) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  forward(pool, res, url.slice(PREFIX.length));
});

server.listen(port, host, () => announce(NAME, server.address()));
closeOnSignal(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.close();
});
