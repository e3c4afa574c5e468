/**
 * A node:cluster primary with two workers, for test/observability/clusterMetrics.test.ts: each
 * worker counts a different number of admitted requests in its own registry and serves
 * /metrics on a port of its own; the primary prints the workers' URLs as one JSON line.
 */
import cluster from "node:cluster";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { serveClusterMetrics } from "../../src/observability/clusterMetrics.js";
import { createMetrics } from "../../src/observability/metrics.js";

const WORKERS = 2;

if (cluster.isPrimary) {
  serveClusterMetrics();
  const urls: string[] = [];
  for (let i = 1; i <= WORKERS; i++) {
    cluster.fork({ WORKER_NUMBER: String(i) }).on("message", (message: { url?: string }) => {
      if (message.url === undefined) return;
      urls.push(message.url);
      if (urls.length === WORKERS) process.stdout.write(`${JSON.stringify(urls.sort())}\n`);
    });
  }
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
} else {
  const metrics = createMetrics({ limits: ["shared"], processMetrics: false });
  const policy = { name: "shared", algorithm: "fixed-window", limit: 10, windowMs: 60_000 } as const;
  // Worker 1 admits one request, worker 2 two: the aggregate says three, whichever is asked.
  for (let i = 0; i < Number(process.env["WORKER_NUMBER"]); i++) {
    metrics.limiter.record({ allowed: true, decisions: [{ policy, allowed: true, limit: 10, remaining: 9, resetAt: 0 }], now: 0 });
    metrics.gateway.forRoute("echo", "echo:*").record(200, 0.003, 0.002, undefined);
  }
  if (process.env["WORKER_NUMBER"] === "2") metrics.storeObserver.outageBegan();
  const server = createServer((_req, res) => {
    metrics.render().then(
      (text) => res.writeHead(200, { "content-type": metrics.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  server.listen(0, "127.0.0.1", () => process.send!({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
}
