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
import { announce, baselineSettings, closeOnSignal, POOL_OPTIONS, PREFIX } from "./common.js";

const NAME = "node-proxy";
const { upstream, port, host } = baselineSettings(NAME);
const pool = new Pool(upstream, POOL_OPTIONS);

const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
  const url = req.url ?? "/";
  if (req.method !== "GET" || !url.startsWith(`${PREFIX}/`)) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  pool.stream(
    { path: url.slice(PREFIX.length), method: "GET" },
    ({ statusCode, headers }) => {
      const out: Record<string, string> = {};
      const type = headers["content-type"];
      const length = headers["content-length"];
      if (typeof type === "string") out["content-type"] = type;
      if (typeof length === "string") out["content-length"] = length;
      res.writeHead(statusCode, out);
      return res;
    },
    (error) => {
      if (error === null) return;
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { "content-type": "text/plain" }).end("bad gateway\n");
    },
  );
});

server.listen(port, host, () => announce(NAME, server.address()));
closeOnSignal(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await pool.close();
});
