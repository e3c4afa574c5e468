/**
 * What the baselines share: where the upstream is, the undici pool options (the same ones the
 * gateway gives each service, src/gateway/routeTable.ts), the path they answer under, the API keys
 * they accept and the limit they check, and the one line on stdout that tells bench/run.ts they
 * are listening.
 *
 * Every baseline forwards GET /api/users/<rest> to <upstream>/<rest>. `node-proxy` does nothing
 * else (the floor); the gateways check `x-api-key` against the bench's 10,000 keys (401 without a
 * valid one) and count each request against a per-consumer limit that never refuses, as Sluice does.
 */
import type { AddressInfo } from "node:net";
import type { ServerResponse } from "node:http";
import type { Pool } from "undici";

/** Same prefix as the gateway's route to the `users` service, so every target gets the same URL. */
export const PREFIX = "/api/users";

/** The pool options of the gateway's route table, minus nothing: a like-for-like upstream side. */
export const POOL_OPTIONS = { connections: 256, keepAliveTimeout: 4_000, connectTimeout: 5_000, headersTimeout: 30_000 } satisfies Pool.Options;

/**
 * The per-consumer limit every gateway checks: 10⁹ requests per second, far above any rate here,
 * so it is consulted (and its state written) on every request but never refuses.
 */
export const NEVER_REFUSED_PER_SECOND = 1_000_000_000;

/** The answer to a request without a valid key. */
export const UNAUTHORIZED_BODY = '{"title":"Unauthorized"}';

/** The upstream base URL (UPSTREAM) and the port to listen on (PORT; 0, the default, is any free port). */
export function baselineSettings(name: string): { upstream: string; port: number; host: string } {
  const upstream = process.env["UPSTREAM"];
  if (upstream === undefined || !/^http:\/\/[^/]+$/.test(upstream)) {
    process.stderr.write(`${name}: set UPSTREAM to the upstream's origin, e.g. http://127.0.0.1:9000\n`);
    process.exit(2);
  }
  const port = Number(process.env["PORT"] ?? "0");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`${name}: PORT must be a port number\n`);
    process.exit(2);
  }
  return { upstream, port, host: process.env["HOST"] ?? "127.0.0.1" };
}

/** The line bench/run.ts waits for: `<name> is ready at http://host:port`. */
export function announce(name: string, address: AddressInfo | string | null): void {
  if (address === null || typeof address === "string") throw new Error(`${name} has no TCP address`);
  process.stdout.write(`${name} is ready at http://${address.address}:${address.port}\n`);
}

/** Closes on SIGINT/SIGTERM; a second signal, or a close that hangs for 3 s, exits at once. */
export function closeOnSignal(close: () => Promise<unknown>): void {
  let closing = false;
  const handler = () => {
    if (closing) process.exit(1);
    closing = true;
    setTimeout(() => process.exit(1), 3_000).unref();
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}

/**
 * GET `path` from the upstream over `pool.stream` (as the gateway's proxy stage does), answering
 * with its status, `content-type` and `content-length`: the bare-Node baselines' whole proxy.
 */
export function forward(pool: Pool, res: ServerResponse, path: string): void {
  pool.stream(
    { path, method: "GET" },
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
}
